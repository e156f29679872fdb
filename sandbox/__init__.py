"""The local runtime: runs the stack that ``template.yaml`` describes on this machine,
without Docker, on an embedded AWS emulator. Nothing under ``functions/`` or ``layers/``
imports it; it imports handlers the way Lambda does, by the template's Handler strings."""
