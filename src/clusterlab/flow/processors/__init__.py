"""The steps of the prepare recipe, one module per family (columns, cleaning, dates, web).

Each step function takes ``(table, step, where)`` and returns a new Ibis table;
`clusterlab.flow.prepare` dispatches to them.
"""
