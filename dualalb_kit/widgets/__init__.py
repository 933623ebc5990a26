"""The widget designer: edit a :class:`DeploymentSpec` in a notebook, then synth, diff, deploy, destroy.

``SpecDesigner(spec)`` shows one form for the stack and one per task. Every edit re-validates the
whole spec; a :class:`ValidationError` is shown next to the field it names (and in the status line),
and the action buttons stay disabled until the spec is valid. ``designer.spec`` and
``designer.to_yaml()`` give the design back, so it can be saved as a params file.

The designer is thin: it turns widget values into spec data and calls ``synth``, ``deploy.diff``,
``deploy.deploy`` and ``deploy.destroy``. Results land in plain attributes (``synthesis``,
``diff_table``, ``deployed_outputs``) and in HTML widgets, so tests can drive it with
``widget.value = ...`` and ``button.click()`` without a browser.

Modules: :mod:`.forms` (fields, errors, the fields of a spec model), :mod:`.text` (the one-box
text forms), :mod:`.deployment`, :mod:`.task` (``TaskEditor``), :mod:`.apps`
(``AppOptionsEditor``), :mod:`.preview` (diagram and cost), :mod:`.target_choice`,
:mod:`.actions` (Synth, Diff, Deploy, Destroy) and :mod:`.designer` (``SpecDesigner``).
"""

from .apps import AppOptionsEditor
from .designer import DEFAULT_IMAGE, SPECIFIC_SUBNETS, SpecDesigner, default_spec
from .target_choice import TARGETS
from .task import TaskEditor

__all__ = [
    "DEFAULT_IMAGE",
    "SPECIFIC_SUBNETS",
    "TARGETS",
    "AppOptionsEditor",
    "SpecDesigner",
    "TaskEditor",
    "default_spec",
]
