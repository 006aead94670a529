"""Seed 000 ("Autodiff in PyTorch"): dy/dx of y = x**2 at x = 5, with ferrograd.

The notebook's code cells, in order, with `import torch` -> `import ferrograd as torch`,
TensorFlow's import -> ferrograd (its tape is ferrograd.GradientTape), and cells that display
a value -> print(value).
"""

import numpy as np

import ferrograd as torch

import ferrograd as tf  # TensorFlow's GradientTape: ferrograd.GradientTape

import matplotlib.pyplot as plt


def plot_vectors(vectors, colors):
    """
    Plot one or more vectors in a 2D plane, specifying a color for each. 

    Arguments
    ---------
    vectors: list of lists or of arrays
        Coordinates of the vectors to plot. For example, [[1, 3], [2, 2]] 
        contains two vectors to plot, [1, 3] and [2, 2].
    colors: list
        Colors of the vectors. For instance: ['red', 'blue'] will display the
        first vector in red and the second in blue.
        
    Example
    -------
    plot_vectors([[1, 3], [2, 2]], ['red', 'blue'])
    plt.xlim(-1, 4)
    plt.ylim(-1, 4)
    """
    plt.figure()
    plt.axvline(x=0, color='lightgray')
    plt.axhline(y=0, color='lightgray')

    for i in range(len(vectors)):
        x = np.concatenate([[0,0],vectors[i]])
        plt.quiver([x[0]], [x[1]], [x[2]], [x[3]],
                   angles='xy', scale_units='xy', scale=1, color=colors[i],)

# function to convert column of matrix to 1D vector: 
def vectorfy(mtrx, clmn):
    return np.array(mtrx[:,clmn]).reshape(-1)

# dy/dx at x = 5

# y = x**2

# dy/dx = 2x = 10

import ferrograd as torch

x = torch.tensor(5.0)

print(x)

######### REQUIRE GRADIENT ###########

print(x.requires_grad_())


# contagiously track gradients through forward pass

# this turns the reqires_grad property of the tensor object from FALSE to TRUE

# tracking gradient is required if we are to calculate the differential of x

y = x**2

# contagiously means, any variable (y) will also track the gradient

print(y)

y.backward() 

# this is the autodiff command

print(x.grad)

# this is the gradient of t wrt x

# this gives us the value of dy/dx
