//! Methods with every receiver, associated functions, traits, and generic functions.
#![deny(warnings)]
#![deny(clippy::pedantic)]

use std::fmt::Display;

use fault_runtime::{Fault, fault_point};

#[derive(Debug)]
struct StoreError;

impl From<Fault> for StoreError {
    fn from(_: Fault) -> Self {
        StoreError
    }
}

#[derive(Clone, Default)]
struct Store {
    items: Vec<u32>,
}

impl Store {
    #[fault_point(name = "store.new")]
    fn new() -> Self {
        Store { items: vec![1] }
    }

    #[fault_point(name = "store.len", facets(first = self.items[0]))]
    fn len(&self) -> usize {
        self.items.len()
    }

    #[fault_point(name = "store.push", facets(item))]
    fn push(&mut self, item: u32) -> Result<(), StoreError> {
        self.items.push(item);
        Ok(())
    }

    #[fault_point(name = "store.into_items")]
    fn into_items(self) -> Vec<u32> {
        self.items
    }

    #[fault_point(name = "store.with")]
    fn with(mut self, item: u32) -> Option<Self> {
        self.items.push(item);
        Some(self)
    }

    // A `Box<Self>` receiver on purpose: the attribute must accept any receiver.
    #[allow(clippy::boxed_local)]
    #[fault_point(name = "store.boxed")]
    fn boxed(self: Box<Self>) -> usize {
        self.items.len()
    }

    #[fault_point(name = "store.total")]
    async fn total(&self) -> Result<u32, StoreError> {
        Ok(self.items.iter().sum())
    }
}

trait Describe {
    #[fault_point(name = "describe.default", facets(label = self.label()))]
    fn describe(&self) -> Result<String, StoreError> {
        Ok(format!("<{}>", self.label()))
    }

    #[fault_point(name = "describe.refresh", facets(label = self.label()))]
    async fn refresh(&self) -> Result<usize, StoreError> {
        Ok(self.label().len())
    }

    fn label(&self) -> String;

    fn size(&self) -> Option<usize>;
}

impl Describe for Store {
    fn label(&self) -> String {
        format!("store of {}", self.items.len())
    }

    #[fault_point(name = "describe.size")]
    fn size(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Wrapper<T>(T);

impl<T: Display> Wrapper<T> {
    #[fault_point(name = "wrapper.show", facets(value = self.0))]
    fn show(&self) -> String {
        self.0.to_string()
    }
}

#[fault_point(name = "generic.largest", facets(count = items.len()))]
fn largest<T>(items: &[T]) -> Result<&T, StoreError>
where
    T: Ord + Display,
{
    items.iter().max().ok_or(StoreError)
}

#[fault_point(name = "generic.unsafe_first")]
unsafe fn first_unchecked<T: Copy>(items: &[T]) -> T {
    // SAFETY: the caller promises `items` is not empty.
    unsafe { *items.get_unchecked(0) }
}

#[fault_point(name = "generic.extern_c")]
extern "C" fn doubled(x: i32) -> i32 {
    x * 2
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

pub fn main() {
    let mut store = Store::new();
    assert_eq!(store.len(), 1);
    store.push(5).unwrap();
    assert_eq!(store.describe().unwrap(), "<store of 2>");
    assert_eq!(store.size(), Some(2));
    assert_eq!(block_on(store.refresh()).unwrap(), 10);
    assert_eq!(Box::new(store.clone()).boxed(), 2);
    assert_eq!(block_on(store.total()).unwrap(), 6);
    let store = store.with(9).unwrap();
    assert_eq!(store.into_items(), [1, 5, 9]);
    assert_eq!(Wrapper(3.5).show(), "3.5");
    assert_eq!(*largest(&[3, 9, 4]).unwrap(), 9);
    // SAFETY: the slice is not empty.
    assert_eq!(unsafe { first_unchecked(&[8, 1]) }, 8);
    assert_eq!(doubled(21), 42);
}
