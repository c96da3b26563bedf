//! Block-wise transfer (RFC 7959) towards the servers: Block1 writes of opaque resources,
//! handed to the object block by block, and the Block2 option of responses larger than
//! the room the request leaves in the message buffer (the response is encoded again for
//! each block through a windowed [`crate::buf::Writer`]: nothing but the block asked for is
//! held).

use crate::coap::{opt, Block, Code, Message, MessageBuilder};
use crate::config::MAX_MESSAGE_SIZE;
use crate::formats::content_format as cf;
use crate::model::{Path, ResourceType};

use super::{dm, Registry};

/// The Access Control right a Block1 write needs: Write.
#[cfg(feature = "access-control")]
const WRITE_RIGHT: u8 = super::acl::WRITE;
#[cfg(not(feature = "access-control"))]
const WRITE_RIGHT: u8 = 2;

/// Room a block leaves in a message for its header, token and options.
const OVERHEAD: usize = 40;

/// The largest block size exponent whose block fits a message beside its options.
pub(super) fn max_szx() -> u8 {
    szx_within(MAX_MESSAGE_SIZE)
}

/// The largest block size exponent whose block fits `room` bytes beside its options.
fn szx_within(room: usize) -> u8 {
    Block::szx_for(room.saturating_sub(OVERHEAD))
}

/// The first block of a payload too large for a message, at the largest size that fits.
pub(super) fn first_block() -> Option<Block> {
    first_block_within(MAX_MESSAGE_SIZE)
}

fn first_block_within(room: usize) -> Option<Block> {
    Some(Block {
        num: 0,
        more: false,
        szx: szx_within(room),
    })
}

/// The largest request payload the client takes (the Size1 of a 4.13).
pub(super) fn max_payload() -> u32 {
    u32::try_from(MAX_MESSAGE_SIZE.saturating_sub(OVERHEAD)).unwrap_or(u32::MAX)
}

/// A Block1 or Block2 option value of a request: longer than 3 bytes is a malformed
/// critical option (4.02, RFC 7252 section 5.4.3), the reserved SZX 7 a bad request (4.00,
/// RFC 7959 section 2.2).
pub(super) fn decode(value: &[u8]) -> Result<Block, Code> {
    if value.len() > 3 {
        return Err(Code::BAD_OPTION);
    }
    Block::decode(value).ok_or(Code::BAD_REQUEST)
}

/// The Block1 write in progress, one for all servers: the server slot, the resource
/// `[oid, iid, rid]` and the offset the next block must start at (0: none in progress). A
/// block 0 always starts over, from any server: a transfer it interrupts gets 4.08 at its
/// next block (RFC 7959 section 2.5 lets a server keep one transfer at a time).
#[derive(Clone, Copy, Default)]
pub struct Block1State {
    path: [u16; 3],
    server: u8,
    next: u32,
}

/// A request carrying Block1 (`value`): a PUT or POST of an opaque resource (with
/// Content-Format opaque or none) goes to [`crate::model::Object::write_block`] block by
/// block, in order; 2.31 Continue while more follow, 2.04 for the last, each echoing Block1.
/// Anything else gets 4.13 (with Size1, added by the caller); a block out of sequence 4.08.
#[inline(never)]
pub(super) fn block1(
    path: &Path,
    req: &Message<'_>,
    value: &[u8],
    server: u8,
    state: &mut Block1State,
    objects: &mut Registry<'_>,
    b: &mut MessageBuilder<'_>,
) -> Result<Code, Code> {
    let blk = decode(value)?;
    let format = req.option_uint(opt::CONTENT_FORMAT);
    let ids = match *path.ids() {
        [oid, iid, rid] if matches!(req.code(), Code::PUT | Code::POST) => [oid, iid, rid],
        _ => return Err(Code::REQUEST_ENTITY_TOO_LARGE),
    };
    if format.is_some_and(|f| f != u32::from(cf::OPAQUE)) {
        return Err(Code::REQUEST_ENTITY_TOO_LARGE);
    }
    let data = req.payload();
    let size = blk.size();
    // A block followed by more is exactly its size; the last one at most.
    if data.len() > size || (blk.more && data.len() != size) {
        return Err(Code::BAD_REQUEST);
    }
    let offset = blk
        .offset()
        .and_then(|o| u32::try_from(o).ok())
        .ok_or(Code::REQUEST_ENTITY_TOO_LARGE)?;
    let in_sequence =
        blk.num == 0 || (state.next == offset && state.path == ids && state.server == server);
    let mut wrote = false;
    let [_, iid, rid] = ids;
    let r = objects.with(path, WRITE_RIGHT, &mut |obj| {
        let def = dm::target(path, obj)?.ok_or(Code::NOT_FOUND)?;
        dm::writable(def, dm::Mode::Update)?;
        if def.kind != ResourceType::Opaque || def.multiple {
            return Err(Code::REQUEST_ENTITY_TOO_LARGE);
        }
        if !in_sequence {
            return Err(Code::REQUEST_ENTITY_INCOMPLETE);
        }
        wrote = true;
        obj.write_block(iid, rid, offset, data, !blk.more)
    });
    if wrote {
        // Started over, continued, finished or failed: only a continued write goes on.
        *state = Block1State::default();
    }
    r?;
    if blk.more {
        // `data.len()` is the block size: at most 1024.
        *state = Block1State {
            path: ids,
            server,
            next: offset.saturating_add(data.len() as u32),
        };
    }
    // Block1 echoed (NUM, M, SZX), with a smaller SZX when the server's blocks cannot fit.
    let echo = (blk.num << 4) | (u32::from(blk.more) << 3) | u32::from(blk.szx.min(max_szx()));
    b.option_uint(opt::BLOCK1, echo)
        .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    Ok(if blk.more {
        Code::CONTINUE
    } else {
        Code::CHANGED
    })
}

/// Answers a request in blocks when it asks for a block (Block2, early negotiation on block
/// 0 included) or when its response does not fit one message (an encoder's NoSpace is a
/// 5.00 by then: a GET or FETCH failing so is tried again in blocks, block 0 of the largest
/// size that fits). `attempt` builds the response, or the block of it, it is given.
pub(super) fn block2(
    req: &Message<'_>,
    room: usize,
    attempt: &mut impl FnMut(Option<Block>) -> Result<usize, Code>,
) -> Result<usize, Code> {
    let max = szx_within(room);
    let block = match req.option(opt::BLOCK2) {
        Some(v) => {
            let asked = decode(v)?;
            // A smaller block than asked starts at the same offset (RFC 7959 section 2.4).
            let shift = asked.szx.saturating_sub(max);
            let num = asked.num.checked_shl(u32::from(shift)).unwrap_or(u32::MAX);
            Block::new(num, false, asked.szx.min(max)).ok_or(Code::BAD_REQUEST)?
        }
        None => {
            let r = attempt(None);
            if r != Err(Code::INTERNAL_SERVER_ERROR)
                || !matches!(req.code(), Code::GET | Code::FETCH)
            {
                return r;
            }
            return attempt(first_block_within(room));
        }
    };
    attempt(Some(block))
}
