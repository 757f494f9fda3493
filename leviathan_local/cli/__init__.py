"""The `leviathan` executable: the light entry (a warm `discover` without click), click's
argument parsing, and what the app needs before Textual loads. The top of the house: it may
import everything, nothing imports it (but ``__main__``).
"""
