"""Modal screens: questions the app asks before it changes anything."""
