"""`ferrograd.viz.make_dot`: the backward graph as torchviz draws it."""
