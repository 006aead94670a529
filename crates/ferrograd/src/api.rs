//! `api!`: the one mechanism that declares public operations.
//!
//! An op is written once, inside an `api!` block, as an ordinary function with its doc comment:
//!
//! ```text
//! api! {
//!     SHAPE_OPS = impl Tensor {
//!         /// Docs, with examples.
//!         pub fn sum_dims / try_sum_dims(&self, dims: &[isize], keepdim: bool = false) -> Tensor {
//!             ... // the fallible body, returning Result<Tensor>
//!         }
//!         /// Infallible ops name one function only.
//!         pub fn exp(&self) -> Tensor { ... }
//!     }
//! }
//! ```
//!
//! and the block generates:
//! - the `try_` form (`try_sum_dims`, returning `Result`) with that body, and the panicking form
//!   (`sum_dims`, carrying the docs) that unwraps it with the error's message: the twins are
//!   never written by hand;
//! - one [`OpDef`](crate::registry::OpDef) per op in the module's registry slice (`SHAPE_OPS`):
//!   name, parameters with their kinds and the `= default`s (for bindings only: Rust has no
//!   default arguments), docs and a dynamic entry point. The registry
//!   ([`crate::registry`]) is the concatenation of these slices, read by the CLI, the Python
//!   bindings and the coverage tests.
//!
//! The forms: `NAME = impl Tensor { .. }` for methods (`&self` first) and associated functions
//! (no `self`), `NAME = impl<T: Borrow<Tensor> = Tensor> Tensor { .. }` for associated
//! functions generic over one parameter (the rows bind it to the type after `=`),
//! `NAME = mod name { .. }` for free functions of the module `name`, and `impl AnyType { .. }`
//! and `mod { .. }` (no name, no registry rows) for twins of types and modules outside the ops
//! layer, or whose arguments bindings cannot pass as values (closures, option structs). Only
//! doc comments may precede an item. Bodies are ordinary Rust (rustfmt does not format inside macros, so
//! keep them short: call a private helper for anything long).

/// See the [module docs](self).
macro_rules! api {
    ($ops:ident = impl Tensor {
        $(
            $(#[doc = $doc:expr])*
            pub fn $name:ident $(/ $try:ident)? ( $($params:tt)* ) -> $ret:ty $body:block
        )*
    }) => {
        impl $crate::tensor::Tensor {
            $( api!(@fn Static [$($doc),*] $name [$($try)?] ($($params)*) -> $ret $body); )*
        }
        pub(crate) const $ops: &[$crate::registry::OpDef] = &[
            $( api!(@row Static "", [$($doc),*] $name [$($try)?] ($($params)*) -> $ret), )*
        ];
    };
    // Associated functions generic over one parameter (`<T: Borrow<Tensor>>`, so that callers
    // pass `&[a, b]` or `&[&a, &b]`): the registry rows bind it to the concrete type named after
    // `=` (`impl<T: Borrow<Tensor> = Tensor> Tensor { .. }`).
    ($ops:ident = impl<$g:ident : $bound:path = $concrete:ty> Tensor {
        $(
            $(#[doc = $doc:expr])*
            pub fn $name:ident $(/ $try:ident)? ( $($params:tt)* ) -> $ret:ty $body:block
        )*
    }) => {
        impl $crate::tensor::Tensor {
            $( api!(@gfn [$($doc),*] <$g: $bound> $name [$($try)?] ($($params)*) -> $ret $body); )*
        }
        pub(crate) const $ops: &[$crate::registry::OpDef] = {
            type $g = $concrete;
            &[ $( api!(@row Static "", [$($doc),*] $name [$($try)?] ($($params)*) -> $ret), )* ]
        };
    };
    // Twins only, no registry rows: methods of any type whose arguments bindings cannot pass
    // as values (closures, option structs), e.g. the tape's or forward mode's.
    (impl $ty:ty {
        $(
            $(#[doc = $doc:expr])*
            pub fn $name:ident $(/ $try:ident)? ( $($params:tt)* ) -> $ret:ty $body:block
        )*
    }) => {
        impl $ty {
            $( api!(@fn Static [$($doc),*] $name [$($try)?] ($($params)*) -> $ret $body); )*
        }
    };
    // Free functions, twins only; `mod name` for free functions whose arguments bindings
    // cannot pass (option structs), where a registered wrapper with the PyTorch keywords gives
    // the row.
    (mod $($module:ident)? {
        $(
            $(#[doc = $doc:expr])*
            pub fn $name:ident $(/ $try:ident)? ( $($params:tt)* ) -> $ret:ty $body:block
        )*
    }) => {
        $( api!(@fn Free [$($doc),*] $name [$($try)?] ($($params)*) -> $ret $body); )*
    };
    ($ops:ident = mod $module:ident {
        $(
            $(#[doc = $doc:expr])*
            pub fn $name:ident $(/ $try:ident)? ( $($params:tt)* ) -> $ret:ty $body:block
        )*
    }) => {
        $( api!(@fn Free [$($doc),*] $name [$($try)?] ($($params)*) -> $ret $body); )*
        pub(crate) const $ops: &[$crate::registry::OpDef] = &[
            $( api!(@row Free stringify!($module), [$($doc),*] $name [$($try)?] ($($params)*) -> $ret), )*
        ];
    };

    // ---- the functions: a twin pair, or one infallible function.
    (@fn $scope:ident [$($doc:expr),*] $name:ident [$try:ident]
        (&$this:ident $(, $a:ident : $t:ty $(= $d:expr)?)* $(,)?) -> $ret:ty $body:block) => {
        $(#[doc = $doc])*
        #[doc = ""]
        #[doc = concat!("Panics with the error's message on bad input; [`Self::", stringify!($try), "`] returns it.")]
        #[track_caller]
        pub fn $name(&$this $(, $a: $t)*) -> $ret {
            $crate::unwrap($this.$try($($a),*))
        }
        #[doc = concat!("Fallible [`Self::", stringify!($name), "`]: bad input is an `Err` with the message the panicking form would give.")]
        pub fn $try(&$this $(, $a: $t)*) -> $crate::error::Result<$ret> $body
    };
    (@fn $scope:ident [$($doc:expr),*] $name:ident []
        (&$this:ident $(, $a:ident : $t:ty $(= $d:expr)?)* $(,)?) -> $ret:ty $body:block) => {
        $(#[doc = $doc])*
        pub fn $name(&$this $(, $a: $t)*) -> $ret $body
    };
    (@fn Static [$($doc:expr),*] $name:ident [$try:ident]
        ($($a:ident : $t:ty $(= $d:expr)?),* $(,)?) -> $ret:ty $body:block) => {
        $(#[doc = $doc])*
        #[doc = ""]
        #[doc = concat!("Panics with the error's message on bad input; [`Self::", stringify!($try), "`] returns it.")]
        #[track_caller]
        pub fn $name($($a: $t),*) -> $ret {
            $crate::unwrap(Self::$try($($a),*))
        }
        #[doc = concat!("Fallible [`Self::", stringify!($name), "`]: bad input is an `Err` with the message the panicking form would give.")]
        pub fn $try($($a: $t),*) -> $crate::error::Result<$ret> $body
    };
    (@fn Free [$($doc:expr),*] $name:ident [$try:ident]
        ($($a:ident : $t:ty $(= $d:expr)?),* $(,)?) -> $ret:ty $body:block) => {
        $(#[doc = $doc])*
        #[doc = ""]
        #[doc = concat!("Panics with the error's message on bad input; [`", stringify!($try), "`] returns it.")]
        #[track_caller]
        pub fn $name($($a: $t),*) -> $ret {
            $crate::unwrap($try($($a),*))
        }
        #[doc = concat!("Fallible [`", stringify!($name), "`]: bad input is an `Err` with the message the panicking form would give.")]
        pub fn $try($($a: $t),*) -> $crate::error::Result<$ret> $body
    };
    (@fn $scope:ident [$($doc:expr),*] $name:ident []
        ($($a:ident : $t:ty $(= $d:expr)?),* $(,)?) -> $ret:ty $body:block) => {
        $(#[doc = $doc])*
        pub fn $name($($a: $t),*) -> $ret $body
    };
    (@gfn [$($doc:expr),*] <$g:ident : $bound:path> $name:ident [$try:ident]
        ($($a:ident : $t:ty $(= $d:expr)?),*) -> $ret:ty $body:block) => {
        $(#[doc = $doc])*
        #[doc = ""]
        #[doc = concat!("Panics with the error's message on bad input; [`Self::", stringify!($try), "`] returns it.")]
        #[track_caller]
        pub fn $name<$g: $bound>($($a: $t),*) -> $ret {
            $crate::unwrap(Self::$try($($a),*))
        }
        #[doc = concat!("Fallible [`Self::", stringify!($name), "`]: bad input is an `Err` with the message the panicking form would give.")]
        pub fn $try<$g: $bound>($($a: $t),*) -> $crate::error::Result<$ret> $body
    };

    // ---- the registry rows.
    (@row $scope:ident $module:expr, [$($doc:expr),*] $name:ident [$($try:ident)?]
        (&$this:ident $(, $a:ident : $t:ty $(= $d:expr)?)* $(,)?) -> $ret:ty) => {
        $crate::registry::OpDef {
            name: stringify!($name),
            module: $module,
            receiver: $crate::registry::Receiver::Method,
            params: &[
                $crate::registry::Param {
                    name: "self",
                    kind: $crate::registry::Kind::Tensor,
                    default: None,
                },
                $( api!(@param $a : $t $(= $d)?), )*
            ],
            returns: <$ret as $crate::registry::IntoValue>::KIND,
            fallible: api!(@fallible $($try)?),
            doc: concat!($($doc, "\n"),*),
            call: |args| {
                const OP: &str = stringify!($name);
                let params = &[
                    $crate::registry::Param {
                        name: "self",
                        kind: $crate::registry::Kind::Tensor,
                        default: None,
                    },
                    $( api!(@param $a : $t $(= $d)?), )*
                ];
                let bound = $crate::registry::bind(OP, params, args)?;
                let mut it = bound.iter();
                let this: &$crate::tensor::Tensor = $crate::registry::next(OP, "self", &mut it)?;
                $( let $a: $t = $crate::registry::next(OP, stringify!($a), &mut it)?; )*
                Ok($crate::registry::IntoValue::into_value(
                    api!(@invoke this.[$name $($try)?]($($a),*))
                ))
            },
        }
    };
    (@row $scope:ident $module:expr, [$($doc:expr),*] $name:ident [$($try:ident)?]
        ($($a:ident : $t:ty $(= $d:expr)?),* $(,)?) -> $ret:ty) => {
        $crate::registry::OpDef {
            name: stringify!($name),
            module: $module,
            receiver: api!(@receiver $scope),
            params: &[ $( api!(@param $a : $t $(= $d)?), )* ],
            returns: <$ret as $crate::registry::IntoValue>::KIND,
            fallible: api!(@fallible $($try)?),
            doc: concat!($($doc, "\n"),*),
            call: |args| {
                const OP: &str = stringify!($name);
                let params = &[ $( api!(@param $a : $t $(= $d)?), )* ];
                let bound = $crate::registry::bind(OP, params, args)?;
                #[allow(unused_mut, unused_variables)]
                let mut it = bound.iter();
                $( let $a: $t = $crate::registry::next(OP, stringify!($a), &mut it)?; )*
                Ok($crate::registry::IntoValue::into_value(
                    api!(@invoke $scope [$name $($try)?]($($a),*))
                ))
            },
        }
    };
    (@param $a:ident : $t:ty) => {
        $crate::registry::Param {
            name: stringify!($a),
            kind: <$t as $crate::registry::FromValue>::KIND,
            default: None,
        }
    };
    (@param $a:ident : $t:ty = $d:expr) => {
        $crate::registry::Param {
            name: stringify!($a),
            kind: <$t as $crate::registry::FromValue>::KIND,
            default: Some(|| {
                let v: $t = $d;
                $crate::registry::FromValue::to_value(&v)
            }),
        }
    };
    (@fallible) => { false };
    (@fallible $try:ident) => { true };
    (@invoke $this:ident.[$name:ident]($($a:ident),*)) => { $this.$name($($a),*) };
    (@invoke $this:ident.[$name:ident $try:ident]($($a:ident),*)) => { $this.$try($($a),*)? };
    (@invoke Static [$name:ident]($($a:ident),*)) => { $crate::tensor::Tensor::$name($($a),*) };
    (@invoke Static [$name:ident $try:ident]($($a:ident),*)) => {
        $crate::tensor::Tensor::$try($($a),*)?
    };
    (@invoke Free [$name:ident]($($a:ident),*)) => { $name($($a),*) };
    (@invoke Free [$name:ident $try:ident]($($a:ident),*)) => { $try($($a),*)? };
    (@receiver Static) => { $crate::registry::Receiver::Static };
    (@receiver Free) => { $crate::registry::Receiver::Function };
}
