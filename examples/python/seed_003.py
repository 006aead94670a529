"""Seed 003 ("Differentiation", torch.autograd), with ferrograd.

The notebook's code cells, in order, with `import torch` -> `import ferrograd as torch` and
cells that display a value -> print(value).
"""

import ferrograd as torch

def f(x):
    return 3 * x**2 - 4 * x


def numerical_lim(f, x, h):
    return (f(x + h) - f(x)) / h


h = 0.1
for _ in range(6):
    print(f"h={h:.6f}, numerical limit={numerical_lim(f, 1, h):.6f}")
    h *= 0.1

x = torch.arange(4.0, requires_grad=True)
print(x)

print(x.grad)  # default is None

# define f(x):
y = torch.dot(x, x)
print(y)

# to find the grandients we need to find the partial derivatives:
y.backward()

print(x.grad)

# verify
print(x.grad == 2 * x)

# another example:
# f(vector x) = x1 + x2 + ... + xn
# Gradient should be [1, 1, ..., 1]

# clear previous values
x.grad.zero_()
# define the f(x)
y = x.sum()
# find the derivatives
y.backward()
# check the grandients
print(x.grad)

# for non-scalars.
# Using Jacobian matrix (internally).
x = torch.arange(3.0, requires_grad=True)
# define the f(x)
y = x * x
# find the derivatives
y.backward(torch.tensor([1.0, 1.0, 1.0]))
# check the grandients
print(x.grad)

x = torch.arange(3.0, requires_grad=True)
y = x * x

# notice the 3rd element in the input vector parameter
y.backward(torch.tensor([1.0, 1.0, 0]))
print(x.grad)

# Another example, now using tensors:
# Say Q = 3aˆ3 - bˆ2; with a = [a1, a2].T and b = [b1, b2].T
# The Jacobian matrix is
#   J = [ 9a1ˆ2   -2b1   0      0   ]
#       [ 0       0      9a2ˆ2  -2b2]
#
#  given v= [1 1]ˆT
#
#   JˆT . v = [9a1ˆ2   -2b1   9a2ˆ2   -2b2].T
#
# with pytorch:

a = torch.tensor([2.0, 3.0], requires_grad=True)
b = torch.tensor([6.0, 4.0], requires_grad=True)

Q = 3 * a**3 - b**2

external_grad = torch.tensor([1, 1])

# notice the 3rd element in the input vector parameter
Q.backward(gradient=external_grad)
print(a.grad, b.grad)
