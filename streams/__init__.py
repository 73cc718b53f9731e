"""Domain code (channels, journeys, attribution, ROI maths) and the faust app."""
