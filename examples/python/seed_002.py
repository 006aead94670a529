"""Seed 002 ("Autograd: Automatic Differentiation", the PyTorch tutorial with additions), with
ferrograd.

The notebook's code cells, in order, with `import torch` -> `import ferrograd as torch`,
`from torch.autograd import grad` -> `from ferrograd.autograd import grad`, torchviz's
`make_dot` -> `ferrograd.viz.make_dot` (a displayed graph is written as SVG), Python 2's
`print x` -> `print(x)`, `%matplotlib inline` removed (the Agg backend; each plotting cell's
figure is saved as PNG), and random inputs seeded.

    python seed_002.py [FIGURES_DIR]

Figures go to FIGURES_DIR, else $FERROGRAD_SEED_FIGURES, else a new temporary directory; the
directory is printed last.
"""

import os
import sys
import tempfile

import matplotlib
matplotlib.use("Agg")

FIGURES = (sys.argv[1] if len(sys.argv) > 1 else None) or os.environ.get(
    "FERROGRAD_SEED_FIGURES") or tempfile.mkdtemp(prefix="seed_002_")
os.makedirs(FIGURES, exist_ok=True)


def save_figure(name):
    """Writes the current matplotlib figure (what the notebook shows inline) as PNG."""
    plt.savefig(os.path.join(FIGURES, name))
    plt.close()


def show_graph(graph, name):
    """Writes a make_dot graph (what the notebook shows inline) as SVG."""
    graph.render(os.path.join(FIGURES, name), format="svg")


import ferrograd as torch
torch.manual_seed(0)

x = torch.ones(2, 2, requires_grad=True)
print(x)

y = x + 2
print(y)

print(y.grad_fn)

z = y * y * 3
out = z.mean()
q=x**2
print(z, out)
print(q, out)

a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)

#!pip install git+https://github.com/szagoruyko/pytorchviz

from ferrograd.viz import make_dot
# we neglect the parameter here which defines the names
# the tool is meant for ploting models
show_graph(make_dot(out), "make_dot_out")

out.backward()

print(x.grad)

a=torch.tensor([1.,2.,3.,4.,5.],requires_grad=True)
L=torch.sum(a*a) 
L.backward()
print(L)
print(a.grad)

x = torch.randn(3, requires_grad=True)
print(x)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
y=y.norm()
print(y)
#make_dot(y)

y.backward()
print(x.grad)

print(x.requires_grad)
print((x ** 2).requires_grad)

with torch.no_grad():
	print((x ** 2).requires_grad)

A=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)
print('A',A)
B=torch.mm(A,A)
print('B',B)
l=B[0,0]
l.backward() # this is unique, l is 1-dim we do not need an argument
#B[0,0] depends on A[0,0],A[1,0] and A[0,1] but not on A[1,1]
#therefor A.grad[1,1] is zero
print(A.grad)
# the same but for l.shape=(2,2)
A=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)
print('\nA',A)
B=torch.mm(A,A)
print('B',B)
l=B
# now l is not a scalar but a 2x2 tensor
# the chain of derivatives is multiplied with the backward argument
# This allows to combine derivative calculations or here to select some gradient 
l.backward(torch.tensor([[1.,0],[0,0]])) 
print(A.grad)

# torch.autograd.grad for higher derivatives
# a scalar
x = torch.tensor(2., requires_grad=True)
y=x**3
print('x',x,'- x.grad',x.grad)
print('y',y)
print('--- grad ---')
# autograd.grad() can create graph as any other operation that can be passed by x.backward later
a=torch.autograd.grad(outputs=y, inputs=x, create_graph=True)[0] # 3*x**2 returns a 1-dim list
print('a',a)
print('x',x,'- x.grad',x.grad)
#not need x.grad.data.zero_()
print('--- backward ---')
a.backward() # 2*3*x - x,grad is now second derivative
print('x',x,'- x.grad',x.grad)

# torch.autograd.grad for higher derivatives
# 1d now for tanh(x)
x = torch.tensor(2., requires_grad=True)
y=torch.tanh(x)
print('x',x,'- x.grad',x.grad)
print('y',y)
print('--- grad ---')
# create graph as any other operation that can be passed by x.backward later
a=torch.autograd.grad(outputs=y, inputs=x, create_graph=True)[0] # 3*x**2 returns a 1-dim list
print('a',a)
print('x',x,'- x.grad',x.grad)
#not need x.grad.data.zero_()
print('--- backward ---')
d=torch.ones_like(x)
a.backward(d) # 2*3*x - x,grad is now second derivative
print('x',x,'- x.grad',x.grad,d)

import ferrograd as torch
import numpy as np
from matplotlib import pyplot as plt
plt.style.use('dark_background')
from ferrograd.autograd import grad

# function and first derivative
xrange=np.linspace(-3,3,100)
x=torch.tensor(xrange,requires_grad=True)
y=torch.tanh(x)
y.backward(torch.ones_like(x))  # backward(x) screwed up
plt.plot(xrange, y.detach().numpy())
plt.plot(xrange, x.grad.numpy())
save_figure("tanh_derivative_1.png")

# function and second derivative
xrange=np.linspace(-3,3,100)
x=torch.tensor(xrange,requires_grad=True)
y=torch.tanh(x)
# output f(x), input x, grad_outputs=defines shape
# create graph for derivative calculation 
ox=torch.ones_like(x)
a=torch.autograd.grad(outputs=y, inputs=x, 
                      grad_outputs=ox,
                      create_graph=True)[0] # returns a 1-dim list
y.backward(ox,retain_graph=True)
plt.plot(xrange, y.detach().numpy())
plt.plot(xrange, x.grad.numpy())
x.grad.data.zero_()
a.backward(torch.ones_like(x))
plt.plot(xrange, x.grad.numpy())
save_figure("tanh_derivative_2.png")

# function and third derivative
xrange=np.linspace(-7,7,100)
x=torch.tensor(xrange,requires_grad=True)
y=torch.tanh(x)
# output f(x), input x, grad_outputs=defines shape
# create graph for derivative calculation 
ox=torch.ones_like(x) # derivative pattern
a=torch.autograd.grad(outputs=y, inputs=x, 
                      grad_outputs=ox,
                      create_graph=True)[0] # returns a 1-dim list
b=torch.autograd.grad(outputs=a, inputs=x, 
                      grad_outputs=ox,
                      create_graph=True)[0] # returns a 1-dim list
y.backward(ox,retain_graph=True)
plt.plot(xrange, y.detach().numpy())
plt.plot(xrange, x.grad.numpy())
x.grad.data.zero_()
a.backward(ox,retain_graph=True)
plt.plot(xrange, x.grad.numpy())
x.grad.data.zero_()
b.backward(torch.ones_like(x),retain_graph=True)
plt.plot(xrange, x.grad.numpy())
save_figure("tanh_derivative_3.png")

# torch.autograd.grad for higher derivatives
x = torch.tensor(-2., requires_grad=True)
y = torch.tanh(x)
print('x',x,'- x.grad',x.grad)
print('y',y)
print('--- grad ---')
# create graph as any other operation that can be passed by x.backward later
a=torch.autograd.grad(outputs=y, inputs=x, grad_outputs=torch.ones_like(x),create_graph=True)[0] # 3*x**2 returns a 1-dim list
print('a')
print('x',x,'- x.grad',x.grad)
#not need x.grad.data.zero_()
print('--- backward ---')
a.backward(torch.ones_like(x)) # 2*3*x - x,grad is now second derivative
print('x',x,'- x.grad',x.grad)
show_graph(make_dot(a), "make_dot_a")

print("figures:", FIGURES)
