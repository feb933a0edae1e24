"""The platform side: desk API, models, service levels, app assembly."""
