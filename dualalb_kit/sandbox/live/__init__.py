"""The sandbox's live data plane: deployed services run as local processes behind HAProxy.

Start it with ``Sandbox(live=True)`` or ``dualalb-kit sandbox --live``; :mod:`.plane` runs it,
:mod:`.urls` tells where it serves each listener. Importing this package starts nothing.
"""
