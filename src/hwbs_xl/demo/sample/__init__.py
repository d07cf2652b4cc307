"""The bundled sample plan: two real Barnet Health and Wellbeing Board appendices (public council papers).

barnet-2023-04.md   April 2023 appendix with September 2022 notes (markdown tables, as extracted)
barnet-2024-04.txt  April 2024 appendix (tab-separated text pulled from the committee-pack PDF, noise and all)
"""

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent
BARNET_2023 = SAMPLE_DIR / "barnet-2023-04.md"
BARNET_2024 = SAMPLE_DIR / "barnet-2024-04.txt"
BARNET_TITLE = "Barnet Health and Wellbeing Strategy - Phase 2 Implementation Plan"
BARNET_FILES = (BARNET_2023, BARNET_2024)
