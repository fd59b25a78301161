"""eccoo package."""
