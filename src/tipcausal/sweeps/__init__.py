"""Specification sweeps: a study's ``[sweep]`` choices expanded into specifications (``definition``), fitted on
Dask through the fit store (``engine``, ``task``), collected into one table (``table``), analysed (``analysis``:
decision importance, joint summary, stacking) and drawn (``curve``, ``page``); ``runner`` runs the whole thing."""
