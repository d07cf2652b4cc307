"""`hwbs-xl demo`: the bundled Barnet plan (sample/), the demo's plan folder and the demonstration
returns it fills in itself.
"""
