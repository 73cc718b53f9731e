"""Event contracts: JSON Schemas per event kind and the validators built from them."""
