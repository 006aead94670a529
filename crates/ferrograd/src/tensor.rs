//! The [`Tensor`] type: storage + layout + autograd metadata behind one `Arc`.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::graph::{drop_nodes, Node, Tangent, TensorHookEntry};
use crate::layout::{check_alloc, Layout, Shape};
use crate::storage::{elem_size, typed, Buffer, Element, Scalar, Storage};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// An n-dimensional array of `f32`, `f64` or `bool` that records the operations applied to it.
///
/// `clone()` is O(1): the clone is the *same* tensor (shared data, shared `.grad`, shared
/// `requires_grad` flag), like a second Python name for one `torch.Tensor`. For PyTorch's
/// `tensor.clone()` (a copy with its own storage) use [`Tensor::deep_clone`].
///
/// ```
/// use ferrograd::Tensor;
/// let x = Tensor::scalar(5.0).requires_grad_(true);
/// let y = x.pow(2.0);
/// y.backward();
/// assert_eq!(x.grad().unwrap().item(), 10.0);
/// assert_eq!(y.to_string(), "tensor(25., grad_fn=<PowBackward0>)");
/// ```
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorImpl>);

/// `repr(C)`, the fields every op reads first (storage, history, flags, layout), so that they
/// share the allocation's first cache lines with the `Arc`'s counts; the gradient, hooks and
/// in-place history, read rarely, come last.
#[repr(C)]
pub(crate) struct TensorImpl {
    /// Taken by the destructor (to recycle the block without swapping a placeholder in);
    /// otherwise always present, and read as an `Arc<Storage>` through `Deref`.
    pub(crate) storage: std::mem::ManuallyDrop<Arc<Storage>>,
    /// The node that produced this tensor; `None` for leaves. Read it through
    /// [`Tensor::history`]: an in-place op on a graph tensor replaces it (see `rebased`).
    pub(crate) grad_fn: Option<Arc<Node>>,
    /// For a batched tensor (inside `vmap`), its level and its physical value, the batch at
    /// dimension 0; `layout` is then the logical one (see [`crate::batching`]).
    pub(crate) batch: Option<Box<crate::batching::Batch>>,
    /// The forward-mode tangent, with the dual level it belongs to (see [`crate::forward_ad`]).
    pub(crate) tangent: Option<Box<Tangent>>,
    pub(crate) dtype: DType,
    /// Set once an in-place op has rebased this tensor's history into `rebased`.
    pub(crate) is_rebased: AtomicBool,
    /// Leaf flag (non-leaves require grad by construction).
    pub(crate) requires_grad: AtomicBool,
    pub(crate) retains_grad: AtomicBool,
    pub(crate) layout: Layout,
    /// The accumulated gradient (leaves, and non-leaves that called `retain_grad`).
    pub(crate) grad: Mutex<Option<Tensor>>,
    /// The node of the latest in-place op on this tensor, when `is_rebased`.
    pub(crate) rebased: Mutex<Option<Arc<Node>>>,
    /// Gradient hooks, in registration order.
    pub(crate) hooks: Mutex<Vec<TensorHookEntry>>,
}

impl TensorImpl {
    /// Moves this tensor's graph references (its `grad_fn`, and its `.grad`'s) onto `stack`.
    fn take_graph(&mut self, stack: &mut Vec<Arc<Node>>) {
        if let Some(f) = self.grad_fn.take() {
            stack.push(f);
        }
        if let Some(f) = self
            .rebased
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            stack.push(f);
        }
        let grad = self
            .grad
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(g) = grad {
            g.release_into(stack);
        }
        if let Some(t) = self.tangent.take() {
            t.value.release_into(stack);
        }
    }

    /// Gives this (dropped) tensor's gradient hooks to the nodes they were registered at, the
    /// ones it still holds (its `grad_fn`, and its in-place history); a hook registered at an
    /// in-place step between those two goes with the tensor, as the tensor no longer reaches
    /// its node.
    #[cold]
    fn hand_hooks_to_node(&mut self, mut hooks: Vec<TensorHookEntry>) {
        let rebased = self.rebased.get_mut().unwrap_or_else(|e| e.into_inner());
        for node in [rebased.as_ref(), self.grad_fn.as_ref()]
            .into_iter()
            .flatten()
        {
            let (here, rest): (Vec<_>, Vec<_>) = hooks.into_iter().partition(|e| e.is_at(node));
            hooks = rest;
            if !here.is_empty() {
                crate::graph::adopt_hooks(node, here.into_iter().map(|e| (e.id, e.hook)).collect());
            }
        }
    }
}

impl Drop for TensorImpl {
    fn drop(&mut self) {
        let hooks = std::mem::take(self.hooks.get_mut().unwrap_or_else(|e| e.into_inner()));
        if !hooks.is_empty() {
            self.hand_hooks_to_node(hooks);
        }
        // A node's own destructor is iterative (`drop_nodes`), so the handle is dropped here
        // directly: usually not the last one, and then no stack is allocated.
        drop(self.grad_fn.take());
        // SAFETY: `storage` is taken exactly once, here, and never read again: the rest of
        // this destructor does not touch it, and `ManuallyDrop` has no drop glue of its own.
        Storage::recycle(unsafe { std::mem::ManuallyDrop::take(&mut self.storage) });
        // Hand the rest of the graph to the iterative dropper so a long chain never recurses.
        let mut roots = Vec::new();
        self.take_graph(&mut roots);
        drop_nodes(roots);
    }
}

/// Data that can become a tensor: numbers, bools, and nested arrays or `Vec`s of them.
///
/// As in `torch.tensor`, floating data becomes `f32` (the default dtype), integer data `i64`
/// and bool data `bool`, unless a dtype is given.
///
/// ```
/// use ferrograd::{Tensor, TensorData};
/// assert_eq!([[1.0, 2.0], [3.0, 4.0]].shape(), vec![2, 2]);
/// let t = Tensor::new(vec![vec![1.0, 2.0]]);
/// assert_eq!(t.shape(), &[1, 2]);
/// ```
pub trait TensorData {
    /// The shape of the data (ragged `Vec`s are reported by `Tensor::try_new`).
    fn shape(&self) -> Vec<usize>;
    /// Appends the elements in row-major order.
    fn flatten_into(&self, out: &mut Vec<f64>);
    /// The dtype PyTorch infers for such data: `f32` for floats, `i64` for integers, bool.
    fn default_dtype(&self) -> DType {
        DType::F32
    }
}

macro_rules! scalar_data {
    ($($t:ty => $dtype:ident),*) => {$(
        impl TensorData for $t {
            fn shape(&self) -> Vec<usize> { Vec::new() }
            fn flatten_into(&self, out: &mut Vec<f64>) { out.push(Scalar::to_f64(*self)) }
            fn default_dtype(&self) -> DType { DType::$dtype }
        }
    )*};
}
scalar_data!(f32 => F32, f64 => F32, i64 => I64, bool => Bool);

impl TensorData for i32 {
    fn shape(&self) -> Vec<usize> {
        Vec::new()
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.push(*self as f64)
    }
    fn default_dtype(&self) -> DType {
        DType::I64
    }
}

fn nested_shape<T: TensorData>(items: &[T]) -> Vec<usize> {
    let mut s = vec![items.len()];
    if let Some(first) = items.first() {
        s.extend(first.shape());
    }
    s
}

impl<T: TensorData, const N: usize> TensorData for [T; N] {
    fn shape(&self) -> Vec<usize> {
        nested_shape(self)
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        self.iter().for_each(|x| x.flatten_into(out))
    }
    fn default_dtype(&self) -> DType {
        self.first().map_or(DType::F32, |x| x.default_dtype())
    }
}

impl<T: TensorData> TensorData for Vec<T> {
    fn shape(&self) -> Vec<usize> {
        nested_shape(self)
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        self.iter().for_each(|x| x.flatten_into(out))
    }
    fn default_dtype(&self) -> DType {
        self.first().map_or(DType::F32, |x| x.default_dtype())
    }
}

impl<T: TensorData> TensorData for &T {
    fn shape(&self) -> Vec<usize> {
        (*self).shape()
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        (*self).flatten_into(out)
    }
    fn default_dtype(&self) -> DType {
        (*self).default_dtype()
    }
}

/// Builds a tensor from a literal: `tensor!(5.0)`, `tensor!([1.0, 2.0])`,
/// `tensor!([[1.0, 2.0], [3.0, 4.0]])`, with an optional dtype: `tensor!([1.0], F64)`.
///
/// ```
/// use ferrograd::{tensor, DType};
/// let a = tensor!([[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(a.shape(), &[2, 2]);
/// assert_eq!(tensor!([1.0, 2.0], F64).dtype(), DType::F64);
/// ```
#[macro_export]
macro_rules! tensor {
    ($data:expr) => {
        $crate::Tensor::new($data)
    };
    ($data:expr, $dtype:ident) => {
        $crate::Tensor::from_data($data, $crate::DType::$dtype)
    };
}

impl<T: TensorData, const N: usize> From<[T; N]> for Tensor {
    /// Same as [`Tensor::new`].
    fn from(data: [T; N]) -> Tensor {
        Tensor::new(data)
    }
}

impl From<Vec<f32>> for Tensor {
    /// A 1-d `f32` tensor owning the vector.
    fn from(v: Vec<f32>) -> Tensor {
        let n = v.len();
        Tensor::from_buffer(Buffer::F32(v.into()), &[n])
    }
}

impl From<Vec<f64>> for Tensor {
    /// A 1-d `f64` tensor owning the vector (like `torch.tensor(numpy_array)`).
    fn from(v: Vec<f64>) -> Tensor {
        let n = v.len();
        Tensor::from_buffer(Buffer::F64(v.into()), &[n])
    }
}

impl From<f32> for Tensor {
    /// A 0-d `f32` tensor.
    fn from(v: f32) -> Tensor {
        Tensor::from_buffer(Buffer::F32(smallvec::smallvec![v]), &[])
    }
}

impl From<f64> for Tensor {
    /// A 0-d `f64` tensor.
    fn from(v: f64) -> Tensor {
        Tensor::from_buffer(Buffer::F64(smallvec::smallvec![v]), &[])
    }
}

/// Elements a tensor can be read out as ([`Tensor::to_vec`]).
pub trait ReadElement: Copy + Sized {
    #[doc(hidden)]
    fn read_all(t: &Tensor) -> Vec<Self>;
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn into_buffer(data: Vec<Self>) -> Buffer;
}

impl ReadElement for f32 {
    fn read_all(t: &Tensor) -> Vec<f32> {
        t.to_dtype(DType::F32).contiguous_vec::<f32>()
    }
    #[allow(private_interfaces)]
    fn into_buffer(data: Vec<f32>) -> Buffer {
        Buffer::F32(data.into())
    }
}
impl ReadElement for f64 {
    fn read_all(t: &Tensor) -> Vec<f64> {
        t.to_dtype(DType::F64).contiguous_vec::<f64>()
    }
    #[allow(private_interfaces)]
    fn into_buffer(data: Vec<f64>) -> Buffer {
        Buffer::F64(data.into())
    }
}
impl ReadElement for i64 {
    fn read_all(t: &Tensor) -> Vec<i64> {
        t.to_dtype(DType::I64).contiguous_vec::<i64>()
    }
    #[allow(private_interfaces)]
    fn into_buffer(data: Vec<i64>) -> Buffer {
        Buffer::I64(data.into())
    }
}
impl ReadElement for bool {
    fn read_all(t: &Tensor) -> Vec<bool> {
        t.to_dtype(DType::Bool).contiguous_vec::<bool>()
    }
    #[allow(private_interfaces)]
    fn into_buffer(data: Vec<bool>) -> Buffer {
        Buffer::Bool(data.into())
    }
}

impl Tensor {
    // ----------------------------------------------------------------- construction

    /// A contiguous tensor of `shape` over `buf`. The buffer exists, so its length is the
    /// shape's element count, checked here (a mismatch would let a kernel index past it).
    pub(crate) fn from_buffer(buf: Buffer, shape: &[usize]) -> Tensor {
        assert_eq!(
            crate::layout::checked_numel(shape),
            Some(buf.len()),
            "internal error: a buffer of {} elements for shape {shape:?}",
            buf.len()
        );
        let dtype = buf.dtype();
        Tensor::from_parts(Storage::shared(buf), Layout::contiguous(shape), dtype, None)
    }

    pub(crate) fn from_parts(
        storage: Arc<Storage>,
        layout: Layout,
        dtype: DType,
        grad_fn: Option<Arc<Node>>,
    ) -> Tensor {
        // Built in its `Arc` allocation, field by field: a finished `TensorImpl` moved into
        // `Arc::new` was copied whole (a `memcpy` call per tensor).
        let mut t = Arc::<TensorImpl>::new_uninit();
        // SAFETY: `t` was created on the line above and has no other handle.
        let p = unsafe { crate::unique::fresh_mut(&mut t) }.as_mut_ptr();
        // SAFETY: `p` points to the (uninitialised, suitably aligned) `TensorImpl` of an `Arc`
        // this function alone holds. Each field is reached with `addr_of_mut!` (no reference to
        // uninitialised memory is made) and written exactly once with `write` (nothing
        // uninitialised is dropped); every field of `TensorImpl` is written (checked by
        // `every_field_is_written`), and none of these writes can panic, so `assume_init` below
        // sees it fully initialised.
        unsafe {
            use std::ptr::addr_of_mut;
            addr_of_mut!((*p).storage).write(std::mem::ManuallyDrop::new(storage));
            addr_of_mut!((*p).layout).write(layout);
            addr_of_mut!((*p).dtype).write(dtype);
            addr_of_mut!((*p).grad_fn).write(grad_fn);
            addr_of_mut!((*p).requires_grad).write(AtomicBool::new(false));
            addr_of_mut!((*p).grad).write(Mutex::new(None));
            addr_of_mut!((*p).retains_grad).write(AtomicBool::new(false));
            addr_of_mut!((*p).hooks).write(Mutex::new(Vec::new()));
            addr_of_mut!((*p).tangent).write(None);
            addr_of_mut!((*p).batch).write(None);
            addr_of_mut!((*p).is_rebased).write(AtomicBool::new(false));
            addr_of_mut!((*p).rebased).write(Mutex::new(None));
        }
        // SAFETY: every field was initialised above.
        Tensor(unsafe { t.assume_init() })
    }

    /// Fails to compile when `TensorImpl` gains a field, so that [`Tensor::from_parts`]
    /// (which must write every field before `assume_init`) is updated with it.
    #[allow(dead_code)]
    fn every_field_is_written(t: &TensorImpl) {
        let TensorImpl {
            storage: _,
            layout: _,
            dtype: _,
            grad_fn: _,
            requires_grad: _,
            grad: _,
            retains_grad: _,
            hooks: _,
            tangent: _,
            batch: _,
            is_rebased: _,
            rebased: _,
        } = t;
    }

    /// A tensor owning `data` with the given `shape` (dtype from `T`: `f32`, `f64`, `i64` or
    /// `bool`). Panics if the sizes
    /// disagree; see [`Tensor::try_from_vec`].
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]);
    /// assert_eq!(t.shape(), &[2, 2]);
    /// ```
    pub fn from_vec<T: ReadElement>(data: Vec<T>, shape: &[usize]) -> Tensor {
        crate::unwrap(Tensor::try_from_vec(data, shape))
    }

    /// Fallible [`Tensor::from_vec`].
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let e = Tensor::try_from_vec(vec![1.0f32; 3], &[2, 2]).unwrap_err();
    /// assert!(e.to_string().contains("shape [2, 2] is invalid for input of size 3"));
    /// ```
    pub fn try_from_vec<T: ReadElement>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        if crate::layout::checked_numel(shape) != Some(data.len()) {
            return Err(Error::invalid(
                "from_vec",
                format!(
                    "shape {shape:?} is invalid for input of size {}",
                    data.len()
                ),
            ));
        }
        Ok(Tensor::from_buffer(
            <T as ReadElement>::into_buffer(data),
            shape,
        ))
    }

    /// A 0-d `f32` tensor (`torch.tensor(5.0)`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::scalar(5.0).to_string(), "tensor(5.)");
    /// ```
    pub fn scalar(value: f32) -> Tensor {
        Tensor::from(value)
    }

    /// Zeros with this tensor's shape and dtype.
    ///
    /// ```
    /// use ferrograd::{DType, Tensor};
    /// let z = Tensor::ones(&[2]).to_dtype(DType::F64).zeros_like();
    /// assert_eq!(z.dtype(), DType::F64);
    /// ```
    pub fn zeros_like(&self) -> Tensor {
        self.full_like(0.0)
    }

    /// Ones with this tensor's shape and dtype.
    ///
    /// ```
    /// let o = ferrograd::Tensor::zeros(&[3]).ones_like();
    /// assert_eq!(o.to_vec::<f32>(), vec![1.0; 3]);
    /// ```
    pub fn ones_like(&self) -> Tensor {
        self.full_like(1.0)
    }

    /// `value` everywhere, with this tensor's shape and dtype.
    ///
    /// ```
    /// let t = ferrograd::Tensor::zeros(&[2]).full_like(7.0);
    /// assert_eq!(t.to_vec::<f32>(), vec![7.0, 7.0]);
    /// ```
    pub fn full_like(&self, value: f64) -> Tensor {
        Tensor::full_with(self.shape(), value, self.dtype())
    }

    /// `0, 1, ..., end-1` as `f32` (`torch.arange(4.0)`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::arange(4.0).to_string(), "tensor([0., 1., 2., 3.])");
    /// ```
    pub fn arange(end: f64) -> Tensor {
        Tensor::arange_step(0.0, end, 1.0)
    }

    /// `start, start+step, ...` up to (excluding) `end`, as `f32`. Panics if `step` is zero or
    /// has the wrong sign.
    ///
    /// ```
    /// let t = ferrograd::Tensor::arange_step(1.0, 2.0, 0.25);
    /// assert_eq!(t.to_vec::<f32>(), vec![1.0, 1.25, 1.5, 1.75]);
    /// ```
    pub fn arange_step(start: f64, end: f64, step: f64) -> Tensor {
        crate::unwrap(Tensor::try_arange(start, end, step, DType::F32))
    }

    /// Fallible arange of any floating dtype.
    ///
    /// ```
    /// use ferrograd::{DType, Tensor};
    /// assert!(Tensor::try_arange(0.0, 1.0, -1.0, DType::F32).is_err());
    /// ```
    pub fn try_arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(Error::invalid(
                "arange",
                "step must be nonzero and bounds finite",
            ));
        }
        if (end - start) * step < 0.0 {
            return Err(Error::invalid(
                "arange",
                "upper bound and larger bound inconsistent with step sign",
            ));
        }
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        check_alloc("arange", &[n], elem_size(dtype))?;
        Ok(Tensor::from_buffer(
            Buffer::try_from_f64s(dtype, (0..n).map(|i| start + i as f64 * step))?,
            &[n],
        ))
    }

    /// `steps` evenly spaced `f32` values from `start` to `end` inclusive.
    ///
    /// ```
    /// let t = ferrograd::Tensor::linspace(0.0, 1.0, 5);
    /// assert_eq!(t.to_vec::<f32>(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    /// ```
    pub fn linspace(start: f64, end: f64, steps: usize) -> Tensor {
        Tensor::linspace_with(start, end, steps, DType::F32)
    }

    /// `steps` evenly spaced values of `dtype`, computed like PyTorch's `linspace` (the first
    /// half stepping up from `start`, the second half stepping down from `end`, so both ends
    /// are exact).
    ///
    /// ```
    /// use ferrograd::{DType, Tensor};
    /// let x = Tensor::linspace_with(-7.0, 7.0, 100, DType::F64);
    /// assert_eq!(x.to_vec::<f64>()[99], 7.0);
    /// ```
    pub fn linspace_with(start: f64, end: f64, steps: usize, dtype: DType) -> Tensor {
        let values = (0..steps).map(|i| {
            if steps == 1 {
                return start;
            }
            let step = (end - start) / (steps - 1) as f64;
            if i < steps / 2 {
                start + step * i as f64
            } else {
                end - step * (steps - 1 - i) as f64
            }
        });
        Tensor::from_buffer(Buffer::from_f64s(dtype, values), &[steps])
    }

    /// The `n x n` identity matrix as `f32` (`torch.eye(n)`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::eye(2).to_vec::<f32>(), vec![1.0, 0.0, 0.0, 1.0]);
    /// ```
    pub fn eye(n: usize) -> Tensor {
        Tensor::eye_with(n, DType::F32)
    }

    // ----------------------------------------------------------------- metadata

    /// The dimensions.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::zeros(&[2, 3]).shape(), &[2, 3]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.0.layout.shape
    }

    /// Alias of [`Tensor::shape`] (PyTorch's `size()`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::zeros(&[4]).size(), &[4]);
    /// ```
    pub fn size(&self) -> &[usize] {
        self.shape()
    }

    /// The number of dimensions (0 for a scalar).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::scalar(1.0).dim(), 0);
    /// ```
    pub fn dim(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::zeros(&[2, 0]).numel(), 0);
    /// ```
    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    /// The element type.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::zeros(&[1]).dtype(), ferrograd::DType::F32);
    /// ```
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    /// Strides in elements.
    ///
    /// ```
    /// let t = ferrograd::Tensor::zeros(&[2, 3]);
    /// assert_eq!(t.strides(), &[3, 1]);
    /// assert_eq!(t.t().strides(), &[1, 3]);
    /// ```
    pub fn strides(&self) -> &[usize] {
        &self.0.layout.strides
    }

    /// Computes this tensor's elements now if they are still deferred, and returns it.
    ///
    /// Elementwise ops on large tensors (65,536 elements or more) defer their work: the result
    /// is computed when first read, fused with the elementwise ops it depends on, in one pass
    /// over memory. Every read (`to_vec`, `item`, any non-elementwise op, an in-place write)
    /// does this implicitly, so a program never needs to call it; it is for timing the work
    /// where it happens, as `torch.cuda.synchronize()` is.
    ///
    /// ```
    /// let x = ferrograd::Tensor::linspace(0.0, 1.0, 1 << 17);
    /// let y = &x.exp() * &x.sin(); // deferred
    /// assert_eq!(y.realize().to_vec::<f32>()[0], 0.0);
    /// ```
    pub fn realize(&self) -> &Tensor {
        drop(self.base_storage().read());
        self
    }

    /// Whether the elements are laid out densely in row-major order.
    ///
    /// ```
    /// let t = ferrograd::Tensor::zeros(&[2, 3]);
    /// assert!(t.is_contiguous() && !t.t().is_contiguous());
    /// ```
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    /// Whether two handles are the same tensor (PyTorch's `a is b`).
    ///
    /// ```
    /// let a = ferrograd::Tensor::zeros(&[1]);
    /// assert!(a.is_same(&a.clone()) && !a.is_same(&a.detach()));
    /// ```
    pub fn is_same(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Whether two tensors share storage (a view, a `detach()`, a clone).
    ///
    /// ```
    /// let a = ferrograd::Tensor::zeros(&[1]);
    /// assert!(a.shares_storage(&a.detach()));
    /// ```
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(self.base_storage(), other.base_storage())
    }

    // ----------------------------------------------------------------- data access

    pub(crate) fn layout(&self) -> &Layout {
        &self.0.layout
    }

    /// The storage under the layout. A batched tensor's values are its physical tensor's: an
    /// operation that reaches this for one has no batching rule, and fails with vmap's message
    /// (never a wrong number).
    pub(crate) fn storage(&self) -> &Arc<Storage> {
        if self.0.batch.is_some() {
            crate::batching::no_rule();
        }
        &self.0.storage
    }

    /// The storage that holds this tensor's values, through any vmap levels (version counters
    /// and aliasing checks read it).
    pub(crate) fn base_storage(&self) -> &Arc<Storage> {
        match &self.0.batch {
            Some(b) => b.inner.base_storage(),
            None => &self.0.storage,
        }
    }

    /// The elements in row-major order as `T` (which must be the tensor's dtype).
    pub(crate) fn contiguous_vec<T: Element>(&self) -> Vec<T> {
        let buf = self.storage().read();
        gather(typed::<T>(&buf), &self.0.layout)
    }

    /// The elements in row-major order, converted to `T` (`f32`, `f64` or `bool`).
    ///
    /// ```
    /// let t = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.t().to_vec::<f64>(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    pub fn to_vec<T: ReadElement>(&self) -> Vec<T> {
        T::read_all(self)
    }

    /// Element values widened to `f64`, in row-major order (any dtype).
    pub(crate) fn values_f64(&self) -> Vec<f64> {
        let buf = self.storage().read();
        self.0.layout.offsets().map(|o| buf.get_f64(o)).collect()
    }

    /// The values of every member of a batched tensor (all of its physical tensor's), for
    /// checks that must hold for each member (range checks); [`Tensor::values_f64`] otherwise.
    pub(crate) fn member_values_f64(&self) -> Vec<f64> {
        match self.batch() {
            Some((_, p)) => p.member_values_f64(),
            None => self.values_f64(),
        }
    }

    // ----------------------------------------------------------------- autograd flags

    /// Whether operations on this tensor are recorded for differentiation.
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(1.0);
    /// assert!(!x.requires_grad());
    /// assert!(x.requires_grad_(true).requires_grad());
    /// ```
    pub fn requires_grad(&self) -> bool {
        self.has_history() || self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// The node this tensor's gradient flows into: the op that made it, or the latest in-place
    /// op on it.
    pub(crate) fn history(&self) -> Option<Arc<Node>> {
        if self.0.is_rebased.load(Ordering::Acquire) {
            self.0
                .rebased
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        } else {
            self.0.grad_fn.clone()
        }
    }

    /// Whether this tensor has a node ([`Tensor::history`] is `Some`), without cloning it.
    pub(crate) fn has_history(&self) -> bool {
        self.0.grad_fn.is_some() || self.0.is_rebased.load(Ordering::Acquire)
    }

    /// Makes `node` this tensor's history (after an in-place op wrote its result here).
    pub(crate) fn rebase(&self, node: Arc<Node>) {
        // A retained gradient is the gradient of the tensor's current value (PyTorch moves
        // `retain_grad` to the new `grad_fn` on an in-place op); its hooks stay where they were
        // registered.
        if self.0.retains_grad.load(Ordering::Relaxed) {
            node.set_owner(Arc::downgrade(&self.0));
        }
        let old = self
            .0
            .rebased
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(node);
        self.0.is_rebased.store(true, Ordering::Release);
        if let Some(old) = old {
            drop_nodes(vec![old]);
        }
    }

    /// A tensor sharing this one's storage that is cut from the graph (never requires grad).
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([0.1, -0.2]).requires_grad_(true);
    /// assert!(!x.detach().requires_grad() && x.detach().shares_storage(&x));
    /// ```
    pub fn detach(&self) -> Tensor {
        if let Some(b) = &self.0.batch {
            return crate::batching::wrap(b.inner.detach(), b.level);
        }
        Tensor::from_parts(
            Arc::clone(&self.0.storage),
            self.0.layout.clone(),
            self.0.dtype,
            None,
        )
    }

    /// A new handle on the same values (and, for a batched tensor, the same physical value)
    /// with history `grad_fn` and no tangent.
    pub(crate) fn with_grad_fn(&self, grad_fn: Option<Arc<Node>>) -> Tensor {
        let mut t = Tensor::from_parts(
            Arc::clone(&self.0.storage),
            self.0.layout.clone(),
            self.0.dtype,
            grad_fn,
        );
        if let Some(b) = &self.0.batch {
            Arc::get_mut(&mut t.0).expect("a fresh tensor").batch =
                Some(Box::new(crate::batching::Batch {
                    level: b.level,
                    inner: b.inner.clone(),
                }));
        }
        t
    }

    /// A view of the same storage with another layout, outside the graph.
    pub(crate) fn view_with(&self, layout: Layout) -> Tensor {
        Tensor::from_parts(self.storage().clone(), layout, self.0.dtype, None)
    }

    /// Moves the tensor's graph references onto `stack` if this was the last handle, so that
    /// dropping a deep graph never recurses.
    pub(crate) fn release_into(self, stack: &mut Vec<Arc<Node>>) {
        if let Some(mut inner) = Arc::into_inner(self.0) {
            inner.take_graph(stack);
        }
    }

    /// Adds `other` (same shape and dtype, contiguous `self`) in place, outside the graph.
    pub(crate) fn accumulate_(&self, other: &Tensor) {
        debug_assert!(self.is_contiguous() && self.shape() == other.shape());
        let mut add = other.to_dtype(self.dtype());
        let range = self.0.layout.contiguous_range().expect("contiguous");
        // The addend is read where it lies (no copy) when it is one run of memory in another
        // storage: it is read-locked while this one is write-locked. Otherwise (the same
        // storage, or strided) it is first copied into its own contiguous storage.
        if Arc::ptr_eq(&self.0.storage, &add.0.storage) || !add.is_contiguous() {
            add = crate::raw::copy(&add);
        }
        let from = add.layout().contiguous_range().expect("contiguous");
        let src = add.storage().read();
        let mut buf = self.0.storage.write();
        match (&mut *buf, &*src) {
            (Buffer::F32(d), Buffer::F32(s)) => add_into(&mut d[range], &s[from]),
            (Buffer::F64(d), Buffer::F64(s)) => add_into(&mut d[range], &s[from]),
            _ => unreachable!("gradients are floating, cast to one dtype above"),
        }
    }

    /// Whether the elements are deferred, still to be computed ([`crate::lazy`]): adding to
    /// it out of place fuses with that work, where an in-place add would compute it first.
    pub(crate) fn is_deferred(&self) -> bool {
        self.0.storage.is_pending()
    }

    /// Whether this handle is the only one on its data (so it may be written in place).
    pub(crate) fn is_unshared(&self) -> bool {
        Arc::strong_count(&self.0) == 1
            && Arc::strong_count(&self.0.storage) == 1
            && self.0.batch.is_none()
    }

    /// Whether this is a batched tensor (inside `vmap`).
    pub(crate) fn is_batched(&self) -> bool {
        self.0.batch.is_some()
    }

    /// The shape as an owned `Shape`.
    pub(crate) fn shape_vec(&self) -> Shape {
        // (`from_slice` copies; `clone` goes through the iterator `Extend`, several times the
        // instructions for a small shape.)
        Shape::from_slice(&self.0.layout.shape)
    }
}

api! {
    impl Tensor {
        /// An `f32` tensor of `shape` filled with `value`.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::full(&[3], 2.0).to_string(), "tensor([2., 2., 2.])");
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::try_full(&[usize::MAX, 2], 1.0).is_err());
        /// ```
        pub fn full / try_full(shape: &[usize], value: f64) -> Tensor {
            Tensor::try_full_with(shape, value, DType::F32)
        }

        /// An `f32` tensor of zeros.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::zeros(&[2]).to_string(), "tensor([0., 0.])");
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::try_zeros(&[1 << 32, 1 << 32]).unwrap_err();
        /// assert!(e.to_string().contains("numel: integer multiplication overflow"));
        /// ```
        pub fn zeros / try_zeros(shape: &[usize]) -> Tensor {
            Tensor::try_full(shape, 0.0)
        }

        /// An `f32` tensor of ones.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::ones(&[2, 2]).sum().item(), 4.0);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::try_ones(&[usize::MAX / 2]).is_err());
        /// ```
        pub fn ones / try_ones(shape: &[usize]) -> Tensor {
            Tensor::try_full(shape, 1.0)
        }
    }
}

api! {
    impl Tensor {
        /// A tensor from nested arrays/`Vec`s or a number: `f32` for floats (PyTorch's default
        /// dtype), `i64` for integers, bool for bools.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let a = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(a.to_string(), "tensor([[1., 2.],\n        [3., 4.]])");
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::try_new(vec![vec![1.0], vec![1.0, 2.0]]).is_err());
        /// ```
        pub fn new / try_new(data: impl TensorData) -> Tensor {
            let dtype = data.default_dtype();
            Tensor::try_from_data(data, dtype)
        }

        /// A tensor of `dtype` from nested arrays/`Vec`s or a number. Panics on ragged data.
        ///
        /// ```
        /// use ferrograd::{DType, Tensor};
        /// let x = Tensor::from_data([1.0, 2.0], DType::F64);
        /// assert_eq!(x.to_string(), "tensor([1., 2.], dtype=torch.float64)");
        /// ```
        ///
        /// ```
        /// use ferrograd::{DType, Tensor};
        /// assert!(Tensor::try_from_data(vec![vec![1.0, 2.0], vec![3.0]], DType::F32).is_err());
        /// ```
        pub fn from_data / try_from_data(data: impl TensorData, dtype: DType) -> Tensor {
            let shape = data.shape();
            let n = check_alloc("tensor", &shape, elem_size(dtype))?;
            let mut values = Vec::new();
            values
                .try_reserve_exact(n)
                .map_err(|_| crate::pool::alloc_error::<f64>(n))?;
            data.flatten_into(&mut values);
            if values.len() != n {
                return Err(Error::invalid(
                    "tensor",
                    format!(
                        "expected sequence of equal-length rows for shape {shape:?}, got {} elements",
                        values.len()
                    ),
                ));
            }
            Ok(Tensor::from_buffer(
                Buffer::try_from_f64s(dtype, values.into_iter())?,
                &shape,
            ))
        }

        /// A tensor of `shape` filled with `value`, of `dtype`.
        ///
        /// ```
        /// use ferrograd::{DType, Tensor};
        /// let t = Tensor::full_with(&[2], 1.5, DType::F64);
        /// assert_eq!(t.to_vec::<f64>(), vec![1.5, 1.5]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{DType, Tensor};
        /// let e = Tensor::try_full_with(&[1 << 32, 1 << 32], 0.0, DType::F32).unwrap_err();
        /// assert!(e.to_string().contains("numel: integer multiplication overflow"));
        /// let e = Tensor::try_full_with(&[usize::MAX / 4], 0.0, DType::F32).unwrap_err();
        /// assert!(e.to_string().contains("Storage size calculation overflowed"));
        /// ```
        pub fn full_with / try_full_with(shape: &[usize], value: f64, dtype: DType) -> Tensor {
            let n = check_alloc("full", shape, elem_size(dtype))?;
            Ok(Tensor::from_buffer(
                Buffer::try_filled(dtype, n, value)?,
                shape,
            ))
        }

        /// The `n x n` identity matrix of `dtype`.
        ///
        /// ```
        /// use ferrograd::{DType, Tensor};
        /// assert_eq!(Tensor::eye_with(3, DType::F64).dtype(), DType::F64);
        /// ```
        ///
        /// ```
        /// use ferrograd::{DType, Tensor};
        /// assert!(Tensor::try_eye_with(1 << 32, DType::F32).is_err());
        /// ```
        pub fn eye_with / try_eye_with(n: usize, dtype: DType) -> Tensor {
            check_alloc("eye", &[n, n], elem_size(dtype))?;
            let values = (0..n * n).map(|k| if k % (n + 1) == 0 { 1.0 } else { 0.0 });
            Ok(Tensor::from_buffer(
                Buffer::try_from_f64s(dtype, values)?,
                &[n, n],
            ))
        }

        /// The value of a one-element tensor as `f64` (an `f32` widens exactly, so formatting it
        /// with [`PyFloat`](crate::PyFloat) prints what Python prints).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([2.5]).item(), 2.5);
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[4]).try_item().unwrap_err();
        /// assert_eq!(e.to_string(), "item: a Tensor with 4 elements cannot be converted to Scalar");
        /// ```
        pub fn item / try_item(&self) -> f64 {
            if self.numel() != 1 {
                return Err(Error::invalid(
                    "item",
                    format!(
                        "a Tensor with {} elements cannot be converted to Scalar",
                        self.numel()
                    ),
                ));
            }
            if self.0.batch.is_some() {
                return Err(Error::invalid("item", crate::batching::ITEM));
            }
            let buf = self.0.storage.read();
            Ok(buf.get_f64(self.0.layout.offset))
        }
    }
}

/// The elements of `data` read through `layout`, in row-major order. Panics (never aborts)
/// if the copy cannot be allocated; see [`crate::kernels::gather`].
pub(crate) fn gather<T: Copy>(data: &[T], layout: &Layout) -> Vec<T> {
    crate::unwrap(crate::kernels::gather(data, layout))
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// `dst[i] += src[i]` (the compiler vectorises it).
fn add_into<T: Copy + std::ops::AddAssign>(dst: &mut [T], src: &[T]) {
    assert_eq!(dst.len(), src.len());
    dst.iter_mut().zip(src).for_each(|(d, &s)| *d += s);
}
