"""Run a small "LSTM: A Search Space Odyssey" study: nine LSTM variants, three tasks, random search.

A package of its own beside ``odyssey_analysis`` (the analysis never imports it): it
produces the kind of sweep the analysis reads. Needs the ``sweep`` extra (PyTorch):
``pip install 'odyssey-analysis[sweep]'``. Importing this package does not import torch;
the modules that train networks (``cells``, ``models``, ``train``) do. ``odyssey sweep``
runs it.
"""
