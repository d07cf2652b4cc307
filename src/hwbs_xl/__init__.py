"""hwbs-xl: run a Health and Wellbeing Board action plan's progress cycle through Excel."""

__version__ = "0.1.0"
