"""Seed 004 ("Autograd", experiments with torch.autograd), with ferrograd.

The notebook's code cells, in order, with `import torch` -> `import ferrograd as torch`,
`from torch import nn` -> `from ferrograd import nn` and `from torch.autograd import grad` ->
`from ferrograd.autograd import grad`.
"""

import sys
print("The Python version is %s.%s.%s" % sys.version_info[:3])
import ferrograd as torch
print(f'The Torch version is: {torch.__version__}')
from ferrograd import nn
from ferrograd.autograd import grad
import numpy as np

w = torch.ones(1, requires_grad=True)   #  w.requires_grad = True
z = torch.ones(1, requires_grad=True)   #  z.requires_grad = False
f = w + 2*z     #  total.requires_grad = True
# Automatic differentiation is straightforward:
[dw,dz] = grad(f,[w,z])
print("[dw,dz] = [{}, {}]".format(dw.item(),dz.item()))

w = torch.ones(1, requires_grad=True)   #  w.requires_grad = True
z = torch.ones(1, requires_grad=True)   #  z.requires_grad = False
f = w + 2*z     #  total.requires_grad = True
f.backward()
print("[dw,dz] = [{}, {}]".format(w.grad.item(),z.grad.item()))

w = torch.ones(1, requires_grad=True)   #  w.requires_grad = True
z = torch.ones(1, requires_grad=True)*2   #  z.requires_grad = False
f = w + torch.sin(2*z)     #  total.requires_grad = True
# Automatic differentiation is straightforward:
[dw,dz] = grad(f,[w,z])
print("[dw,dz] = [{}, {}]".format(dw.item(),dz.item()))

w = torch.ones(1, requires_grad=True)
z = torch.ones(1, requires_grad=True)
g1 = 3*w + torch.cos(z)
g2 = torch.pow(w,2) + torch.sin(2*z)
f = torch.exp(g1) + 3*g2 #  total.requires_grad = True
f.backward()
print("[dw,dz] = [{}, {}]".format(w.grad.item(),z.grad.item()))

W = torch.tensor([[1,0.5],[0.2,0.1]], requires_grad=True)
Z = torch.tensor([[1,0.5],[0.2,0.1]], requires_grad=True)
G1 = 3*W + torch.cos(Z)
G2 = torch.matmul(W, W) + torch.sin(2*Z)
F = torch.norm(torch.exp(G1) + torch.matmul(G1, G2),p = 2) #  total.requires_grad = True
print("F : {}".format(F))
F.backward()
print("dW = {}".format(W.grad))
print("dZ = {}".format(Z.grad))
