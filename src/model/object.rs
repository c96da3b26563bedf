//! Object definitions and the trait every object (built-in, Rust or C) implements.

use super::{ResourceType, Value};
use crate::coap::Code;

/// What a server may do with a resource.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Operations(pub u8);

impl Operations {
    /// No operation (a resource the client uses internally).
    pub const NONE: Operations = Operations(0);
    /// Read.
    pub const R: Operations = Operations(1);
    /// Write.
    pub const W: Operations = Operations(2);
    /// Read and Write.
    pub const RW: Operations = Operations(3);
    /// Execute.
    pub const E: Operations = Operations(4);

    /// True when `self` allows every operation in `other`.
    pub fn allows(self, other: Operations) -> bool {
        self.0 & other.0 == other.0
    }
}

/// One resource in an object definition (a row of the object's table).
#[derive(Clone, Copy)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct ResourceDef {
    /// Resource id.
    pub id: u16,
    /// Data type.
    pub kind: ResourceType,
    /// Allowed operations.
    pub ops: Operations,
    /// True for a multiple-instance resource.
    pub multiple: bool,
}

impl ResourceDef {
    /// A table row; `const` so that tables live in flash.
    pub const fn new(id: u16, kind: ResourceType, ops: Operations, multiple: bool) -> Self {
        ResourceDef {
            id,
            kind,
            ops,
            multiple,
        }
    }
}

/// Receives the value(s) of one resource during a Read.
pub trait ValueSink {
    /// One value: `instance` is `None` for a single-instance resource and the resource
    /// instance id for each instance of a multiple-instance resource.
    fn value(&mut self, instance: Option<u16>, value: &Value<'_>) -> Result<(), Code>;
}

/// An LwM2M object: its definition and the handlers behind it.
///
/// Handlers report failures as the CoAP code the server should see (4.04 for a missing
/// instance, 4.00 for a bad value, 5.00 for an internal failure).
pub trait Object {
    /// Object id.
    fn id(&self) -> u16;
    /// Object version as (major, minor); 1.0 is not announced at registration.
    fn version(&self) -> (u8, u8) {
        (1, 0)
    }
    /// The `index`-th row of the resource table, `None` past the last one.
    fn resource_at(&self, index: usize) -> Option<ResourceDef>;
    /// The id of the `index`-th instance, `None` past the last one.
    fn instance(&self, index: usize) -> Option<u16>;
    /// Produces the value(s) of a readable resource into `out`.
    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code>;
    /// Stores a value; `riid` is set for one instance of a multiple-instance resource.
    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code>;
    /// Checks a value a Write is about to store (every value of a request is checked
    /// before the first is stored, so that a failed Write changes nothing): the code
    /// [`Object::write`] would fail with. The default accepts everything that decoded.
    fn check(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        let _ = (iid, rid, riid, value);
        Ok(())
    }
    /// Removes every instance of multiple-instance resource `rid` of instance `iid`: a
    /// replacing Write (PUT) of the resource follows with the instances it keeps. The
    /// default removes nothing, so such a Write only adds and updates instances.
    fn clear_resource(&mut self, iid: u16, rid: u16) -> Result<(), Code> {
        let _ = (iid, rid);
        Ok(())
    }
    /// Runs an executable resource with the raw argument bytes.
    fn execute(&mut self, iid: u16, rid: u16, args: &[u8]) -> Result<(), Code>;
    /// Receives one block of a block-wise (Block1) write of an opaque resource: `offset`
    /// is the byte offset of `data` in the whole value and `last` is true for the final
    /// block. Blocks arrive in order; offset 0 starts a new value. Objects that take whole
    /// values only keep the default: 4.13.
    fn write_block(
        &mut self,
        iid: u16,
        rid: u16,
        offset: u32,
        data: &[u8],
        last: bool,
    ) -> Result<(), Code> {
        let _ = (iid, rid, offset, data, last);
        Err(Code::REQUEST_ENTITY_TOO_LARGE)
    }
    /// Creates instance `iid` for a server's Create (the engine has checked that it does
    /// not exist); the values the server sent follow as writes. Objects whose instances
    /// are fixed keep the default: 4.05.
    fn create(&mut self, iid: u16) -> Result<(), Code> {
        let _ = iid;
        Err(Code::METHOD_NOT_ALLOWED)
    }
    /// Deletes instance `iid` (the engine has checked that it exists). Default: 4.05.
    #[cfg(feature = "create-delete")]
    fn delete(&mut self, iid: u16) -> Result<(), Code> {
        let _ = iid;
        Err(Code::METHOD_NOT_ALLOWED)
    }

    /// True when instance `iid` exists.
    fn has_instance(&self, iid: u16) -> bool
    where
        Self: Sized,
    {
        has_instance(self, iid)
    }
    /// The definition of resource `rid`, when the object has it.
    fn resource(&self, rid: u16) -> Option<ResourceDef>
    where
        Self: Sized,
    {
        resource(self, rid)
    }
}

/// True when instance `iid` of `obj` exists. [`Object::has_instance`] for a `dyn Object`:
/// one copy serves every object type (the trait method is kept out of the vtables).
#[inline(never)]
pub fn has_instance(obj: &dyn Object, iid: u16) -> bool {
    (0..).map_while(|i| obj.instance(i)).any(|i| i == iid)
}

/// The definition of resource `rid` of `obj`. [`Object::resource`] for a `dyn Object`,
/// found through [`Object::resource_at`].
#[inline(never)]
pub fn resource(obj: &dyn Object, rid: u16) -> Option<ResourceDef> {
    (0..)
        .map_while(|i| obj.resource_at(i))
        .find(|r| r.id == rid)
}

/// The application side of the object registry: the objects the engine does not own
/// itself (everything but Security and Server).
pub trait Objects {
    /// The `index`-th object, `None` past the last one.
    fn object(&mut self, index: usize) -> Option<&mut dyn Object>;

    /// The object with id `oid`.
    fn find(&mut self, oid: u16) -> Option<&mut dyn Object> {
        let mut index = 0;
        loop {
            let found = self.object(index)?.id() == oid;
            if found {
                return self.object(index);
            }
            index += 1;
        }
    }
}

/// No application objects.
impl Objects for () {
    fn object(&mut self, _index: usize) -> Option<&mut dyn Object> {
        None
    }
}

/// A slice of objects is a registry.
impl Objects for [&mut dyn Object] {
    fn object(&mut self, index: usize) -> Option<&mut dyn Object> {
        match self.get_mut(index) {
            Some(o) => Some(&mut **o),
            None => None,
        }
    }
}
