"""leadroi services and command line."""
