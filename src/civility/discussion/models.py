"""Models of the discussion app."""
