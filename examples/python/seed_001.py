"""Seed 001 ("Autodiff (aka Autograd)"): PyTorch's and TensorFlow's dy/dx, with ferrograd.

The notebook's code cells, in order, with `import torch` -> `import ferrograd as torch`,
TensorFlow -> ferrograd (`tf.Variable(5.0)` -> a ferrograd tensor, `tf.GradientTape` ->
ferrograd.GradientTape), and cells that display a value -> print(value).
"""

import ferrograd as torch

x = torch.tensor(5.0) # scalar tensor as float type (required for many PyTorch functions)
print(x)

# When we want to calculate a derivative with respect to x, 
# we want to track its gradient as we perform a forward pass.

# Require the gradient to be tracked on this specific tensor through forward pass.

# Gradient tracking happens "contagiously" through forward pass,
# any variable that is created as function of x,
# any tensor that is created as a result of some operation on x,
# will track the gradients on that new tensor, too

print(x.requires_grad_())

# Gradient will be tracked from x all the way through to y,
# which is our forward pass

y = x**2

# Use autodiff by calling backward method

# Use the tensor that we want as the starting point of the derivative,
# in this case dy/dx
# so we go backwards from dy applying autodiff
# tracking all the way back to whatever tensors were involved in creating y

y.backward()

# get the gradient of y with respect to x
# could also have y as function of more variables and call y's gradient with respect to each of those

print(x.grad)

x = torch.tensor([2.]).requires_grad_()
y = x**2 + 2*x + 2
y.backward()
print(x.grad)

import ferrograd as tf  # TensorFlow's GradientTape: ferrograd.GradientTape

x = tf.tensor(5.0)  # tf.Variable(5.0)

# GradientTape method starts off the tracking of x
# watch method defines what variables we want to track the gradients on (like PyTorch's require_grad_)

with tf.GradientTape() as t:
  t.watch(x) # track forward pass on x Tensor
  y = x**2 # pass x Tensor into function y

print(t.gradient(y, x)) # use autodiff
