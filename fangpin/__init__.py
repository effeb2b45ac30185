"""fangpin: 防贫监测帮扶 multi-source risk screening.

This package is the application shell and the pure domain core:
- ``fangpin.domain``   pure functions (ID numbers, names, divisions, working days) used by every layer;
- ``fangpin.home``     the data-home folder contract (SPEC §3);
- ``fangpin.settings`` configuration files (packaged defaults, overridable per data home);
- ``fangpin.synth``    the synthetic city generator with ground truth;
- ``fangpin.reports``  workbooks and summaries written for people;
- ``fangpin.cli``      the ``fangpin`` command (imports ``pipelines`` lazily, never at import time).
"""

__version__ = "0.1.0"
