"""Run a small "LSTM: A Search Space Odyssey" study: nine LSTM variants, three tasks, random search.

Needs the ``sweep`` extra (PyTorch): ``pip install 'odyssey-analysis[sweep]'``. Importing this
package does not import torch; the modules that train networks (``cells``, ``models``,
``train``) do.
"""
