"""The order of the cold starts: each function starts right after each
other function equally often, and never right after itself.

A start is slower after a process that filled the CPU's caches with its
own memory (the Python peer's runs for about 300 ms over 45 MiB) than after
a small one. With one fixed order per round (health, axum, Mangum, users as
deployed) the start after Mangum's was always the same function's, and
that function's ratios carried the difference (bench/README.md, "Cold
start", the order).
"""


def after_each_other(count):
    """Indices ``0..count`` in an order that, read as a cycle, has each
    ordered pair ``(a, b)`` of two different indices next to each other
    exactly once: an Eulerian circuit of the complete directed graph
    (Hierholzer's algorithm). Its length is ``count * (count - 1)``, each
    index ``count - 1`` times; repeating it keeps the balance across the
    joins, since its last index comes before its first one in the cycle."""
    if count < 2:
        return list(range(count))
    unused = {a: [b for b in range(count) if b != a] for a in range(count)}
    stack, circuit = [0], []
    while stack:
        here = stack[-1]
        if unused[here]:
            stack.append(unused[here].pop())
        else:
            circuit.append(stack.pop())
    circuit.reverse()
    # A circuit ends where it began: drop the repeated start.
    return circuit[:-1]


def cold_order(count, trials):
    """``(untimed, timed)``: the warm-up order (each index once, ending
    with the index the timed order's first one follows in the cycle), then
    the timed starts, the cycle repeated until each index has at least
    ``trials`` starts."""
    cycle = after_each_other(count)
    if not cycle:
        return [], []
    per_cycle = max(1, count - 1)
    timed = cycle * -(-trials // per_cycle)
    last = cycle[-1]
    untimed = [i for i in range(count) if i != last] + [last]
    return untimed, timed
