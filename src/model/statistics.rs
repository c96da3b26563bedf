//! The Connectivity Statistics object (7), single instance 0, object version 1.0.
//!
//! Whoever moves the datagrams counts them: the C client does it for every datagram it
//! hands to `send` or gets from `recv` / `tern_client_input`; a Rust application driving
//! [`crate::client::Client`] itself calls [`ConnectivityStatistics::sent`] and
//! [`ConnectivityStatistics::received`]. Nothing is counted until a server executes Start
//! (/7/0/6); Stop (/7/0/7) or the end of the Collection Period (/7/0/8) ends collecting.

use super::object::{Object, Operations, ResourceDef, ValueSink};
use super::{ResourceType as T, Value};
use crate::coap::Code;

/// Bytes of IPv4 and UDP headers added to each datagram: the spec counts IP messages
/// "including all protocol header bytes up to and including the IP header".
pub const IP_UDP_HEADERS: u32 = 28;

const RESOURCES: &[ResourceDef] = &[
    ResourceDef::new(0, T::Integer, Operations::R, false),
    ResourceDef::new(1, T::Integer, Operations::R, false),
    ResourceDef::new(2, T::Integer, Operations::R, false),
    ResourceDef::new(3, T::Integer, Operations::R, false),
    ResourceDef::new(4, T::Integer, Operations::R, false),
    ResourceDef::new(5, T::Integer, Operations::R, false),
    ResourceDef::new(6, T::None, Operations::E, false),
    ResourceDef::new(7, T::None, Operations::E, false),
    ResourceDef::new(8, T::Integer, Operations::RW, false),
];

/// The counters and the collection state.
#[derive(Default)]
pub struct ConnectivityStatistics {
    /// The latest time the counters were told (ms, the client's monotonic clock).
    now_ms: u64,
    collecting: bool,
    /// When collecting ends by itself (0: only Stop ends it).
    until_ms: u64,
    /// Resource 8, Collection Period in seconds (0: none).
    period_s: u32,
    /// Bytes sent and received (resources 2 and 3 in kilobytes), saturating at 4 GiB.
    bytes: [u32; 2],
    /// Datagrams sent and received (for the Average Message Size, resource 5).
    messages: u32,
    /// Resource 4, Max Message Size.
    max_size: u32,
    /// Resources 0 and 1, SMS sent and received: absent until the application counts one.
    sms: Option<[u32; 2]>,
}

impl ConnectivityStatistics {
    /// Nothing collected, not collecting.
    pub const fn new() -> Self {
        ConnectivityStatistics {
            now_ms: 0,
            collecting: false,
            until_ms: 0,
            period_s: 0,
            bytes: [0; 2],
            messages: 0,
            max_size: 0,
            sms: None,
        }
    }

    /// Tells the object the time (ms); collecting stops when the Collection Period is over.
    pub fn tick(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        if self.collecting && self.until_ms != 0 && now_ms >= self.until_ms {
            self.collecting = false;
        }
    }

    /// True while collecting.
    pub fn collecting(&self) -> bool {
        self.collecting
    }

    /// Counts a datagram of `len` bytes sent at `now_ms`.
    pub fn sent(&mut self, len: usize, now_ms: u64) {
        self.count(0, len, now_ms);
    }

    /// Counts a datagram of `len` bytes received at `now_ms`.
    pub fn received(&mut self, len: usize, now_ms: u64) {
        self.count(1, len, now_ms);
    }

    /// Counts an SMS sent (`sent`) or received; the SMS counters are reported from the
    /// first call on.
    pub fn count_sms(&mut self, sent: bool, now_ms: u64) {
        self.tick(now_ms);
        let collecting = self.collecting;
        let counters = self.sms.get_or_insert([0; 2]);
        if let (true, Some(c)) = (collecting, counters.get_mut(usize::from(!sent))) {
            *c = c.saturating_add(1);
        }
    }

    fn count(&mut self, dir: usize, len: usize, now_ms: u64) {
        self.tick(now_ms);
        if !self.collecting {
            return;
        }
        let size = u32::try_from(len)
            .unwrap_or(u32::MAX)
            .saturating_add(IP_UDP_HEADERS);
        if let Some(b) = self.bytes.get_mut(dir) {
            *b = b.saturating_add(size);
        }
        self.messages = self.messages.saturating_add(1);
        self.max_size = self.max_size.max(size);
    }

    /// Start (/7/0/6): clears the counters and starts collecting.
    pub fn start(&mut self) {
        let until_ms = match self.period_s {
            0 => 0,
            p => self.now_ms.saturating_add(u64::from(p) * 1000),
        };
        *self = ConnectivityStatistics {
            collecting: true,
            until_ms,
            sms: self.sms.map(|_| [0; 2]),
            ..*self
        };
        self.bytes = [0; 2];
        self.messages = 0;
        self.max_size = 0;
    }

    /// Stop (/7/0/7): keeps the counters.
    pub fn stop(&mut self) {
        self.collecting = false;
    }

    /// The value of readable resource `rid`.
    fn value(&self, rid: u16) -> Option<i64> {
        let [tx, rx] = self.bytes;
        let v = match rid {
            0 | 1 => *self.sms?.get(usize::from(rid))?,
            // Kilobytes begun: any traffic shows.
            2 | 3 => self.bytes.get(usize::from(rid) - 2)?.div_ceil(1024),
            4 => self.max_size,
            5 => tx.saturating_add(rx) / self.messages.max(1),
            8 => self.period_s,
            _ => return None,
        };
        Some(i64::from(v))
    }
}

impl Object for ConnectivityStatistics {
    fn id(&self) -> u16 {
        7
    }

    fn resource_at(&self, index: usize) -> Option<ResourceDef> {
        RESOURCES.get(index).copied()
    }

    fn instance(&self, index: usize) -> Option<u16> {
        (index == 0).then_some(0)
    }

    fn read(&mut self, iid: u16, rid: u16, out: &mut dyn ValueSink) -> Result<(), Code> {
        match self.value(rid).filter(|_| iid == 0) {
            Some(v) => out.value(None, &Value::Integer(v)),
            None => Err(Code::NOT_FOUND),
        }
    }

    fn write(
        &mut self,
        iid: u16,
        rid: u16,
        riid: Option<u16>,
        value: &Value<'_>,
    ) -> Result<(), Code> {
        match (iid, rid, riid, *value) {
            (0, 8, None, Value::Integer(p)) => {
                self.period_s = u32::try_from(p).map_err(|_| Code::BAD_REQUEST)?;
                Ok(())
            }
            (0, 8, ..) => Err(Code::BAD_REQUEST),
            (0, ..) => Err(Code::METHOD_NOT_ALLOWED),
            _ => Err(Code::NOT_FOUND),
        }
    }

    fn execute(&mut self, iid: u16, rid: u16, _args: &[u8]) -> Result<(), Code> {
        match (iid, rid) {
            (0, 6) => self.start(),
            (0, 7) => self.stop(),
            (0, _) => return Err(Code::METHOD_NOT_ALLOWED),
            _ => return Err(Code::NOT_FOUND),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Int(Option<i64>);
    impl ValueSink for Int {
        fn value(&mut self, ri: Option<u16>, v: &Value<'_>) -> Result<(), Code> {
            assert_eq!(ri, None);
            if let Value::Integer(i) = v {
                self.0 = Some(*i);
            }
            Ok(())
        }
    }

    fn read(s: &mut ConnectivityStatistics, rid: u16) -> Result<i64, Code> {
        let mut i = Int(None);
        s.read(0, rid, &mut i)?;
        i.0.ok_or(Code::INTERNAL_SERVER_ERROR)
    }

    #[test]
    fn counts_only_while_collecting() {
        let mut s = ConnectivityStatistics::new();
        s.sent(100, 0);
        assert_eq!(read(&mut s, 2), Ok(0), "nothing before Start");
        assert_eq!(read(&mut s, 0), Err(Code::NOT_FOUND), "no SMS reported");
        assert_eq!(s.execute(0, 6, &[]), Ok(()));
        s.sent(1000, 10);
        s.sent(100, 20);
        s.received(2000, 30);
        assert_eq!(read(&mut s, 2), Ok(2), "1156 bytes: 2 KB begun");
        assert_eq!(read(&mut s, 3), Ok(2), "2028 bytes");
        assert_eq!(read(&mut s, 4), Ok(2028));
        assert_eq!(read(&mut s, 5), Ok((1028 + 128 + 2028) / 3));
        assert_eq!(s.execute(0, 7, &[]), Ok(()));
        s.received(5000, 40);
        assert_eq!(read(&mut s, 3), Ok(2), "stopped: kept, not counted");
        assert_eq!(read(&mut s, 4), Ok(2028));
        assert_eq!(s.execute(0, 6, &[]), Ok(()));
        assert_eq!(read(&mut s, 2), Ok(0), "Start resets");
        assert_eq!(read(&mut s, 4), Ok(0));
        assert_eq!(read(&mut s, 5), Ok(0));
        s.count_sms(true, 50);
        s.count_sms(true, 50);
        s.count_sms(false, 50);
        assert_eq!((read(&mut s, 0), read(&mut s, 1)), (Ok(2), Ok(1)));
        assert_eq!(s.execute(0, 6, &[]), Ok(()));
        assert_eq!((read(&mut s, 0), read(&mut s, 1)), (Ok(0), Ok(0)));
        assert_eq!(s.execute(0, 2, &[]), Err(Code::METHOD_NOT_ALLOWED));
        assert_eq!(s.execute(1, 6, &[]), Err(Code::NOT_FOUND));
    }

    #[test]
    fn the_collection_period_ends_collecting() {
        let mut s = ConnectivityStatistics::new();
        assert_eq!(read(&mut s, 8), Ok(0));
        assert_eq!(s.write(0, 8, None, &Value::Integer(2)), Ok(()));
        assert_eq!(read(&mut s, 8), Ok(2));
        s.tick(1_000);
        assert_eq!(s.execute(0, 6, &[]), Ok(()));
        s.received(100, 2_999);
        assert!(s.collecting());
        s.received(100, 3_000);
        assert!(!s.collecting(), "2 s after Start at 1 s");
        assert_eq!(read(&mut s, 4), Ok(128));
        assert_eq!(read(&mut s, 5), Ok(128), "one message counted");
        for bad in [
            Value::Integer(-1),
            Value::Integer(1 << 32),
            Value::Boolean(true),
        ] {
            assert_eq!(s.write(0, 8, None, &bad), Err(Code::BAD_REQUEST));
        }
        assert_eq!(
            s.write(0, 8, Some(0), &Value::Integer(1)),
            Err(Code::BAD_REQUEST)
        );
        assert_eq!(read(&mut s, 8), Ok(2), "a failed write changes nothing");
        assert_eq!(
            s.write(0, 2, None, &Value::Integer(1)),
            Err(Code::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            s.write(0, 0, None, &Value::Integer(0)),
            Err(Code::METHOD_NOT_ALLOWED)
        );
        assert_eq!(s.write(0, 8, None, &Value::Integer(0)), Ok(()));
        assert_eq!(s.execute(0, 6, &[]), Ok(()));
        s.received(100, u64::MAX);
        assert!(s.collecting(), "period 0: until Stop");
    }
}
