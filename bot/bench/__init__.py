"""``make bench``: latency and throughput of the real stack, next to Rasa's starter bot.

The issue asks for one command that answers "is Anxin fast enough on 2 cores, and
what does our pipeline cost compared with a plain Rasa bot?". The package is split
by what each part holds:

- ``scripts``: the multi-turn conversations played (``data/bench/conversations.yml``);
- ``stats``: percentiles and the summary of one measured level (pure);
- ``load``: the virtual users that play conversations over HTTP (aiohttp);
- ``servers``: starting and stopping our stack and the peer, training timers, peak memory;
- ``report``: ratios, targets, the Markdown table and the JSON of ``results/bench.json``;
- ``__main__``: the command line that runs everything in order.

It is a benchmark, not a test: nothing here asserts a time.
"""
