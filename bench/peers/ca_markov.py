"""ChannelAttribution's high-precision Markov model, orders 1 to 3, on a paths file
(run in the peers venv), with the settings of the frozen fixture (freeze.py).

    python bench/peers/ca_markov.py PATHS_CSV OUT_JSON
"""

from __future__ import annotations

import json
import sys

import pandas as pd
from freeze import ca_markov


def main() -> None:
    paths = pd.read_csv(sys.argv[1], sep=";")
    out = {order: ca_markov(paths, order) for order in (1, 2, 3)}
    with open(sys.argv[2], "w") as handle:
        json.dump(out, handle, indent=1)


if __name__ == "__main__":
    main()
