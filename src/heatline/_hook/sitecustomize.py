# heatline's start-up hook for the Python processes of a profiled run. The run's first process
# puts this folder first on PYTHONPATH (and names the run in HEATLINE_RUN), so that every Python
# started below it imports this file as it starts: it starts the process's own profiling
# (heatline._child), then takes this folder off sys.path again and runs the sitecustomize module
# this one hides, if there is one. A Python that is not profiling never sees this folder.
# Plain syntax: any Python 3 may be started with this PYTHONPATH, with heatline or without.
import os
import sys


def _start():
    folder = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != folder]
    try:
        import heatline._child  # noqa: F401 (starts this process's profiling)
    except ImportError:
        pass  # a Python without heatline: not profiled
    # The one this file hid, if any, becomes the sitecustomize module (the import that is
    # running this file returns whatever sys.modules holds under its name when it ends).
    this = sys.modules.pop("sitecustomize")
    try:
        import sitecustomize  # noqa: F401
    except ImportError:
        sys.modules["sitecustomize"] = this


_start()
