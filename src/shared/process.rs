//! Process groups, signalled in one place: a driver and its browsers, a deploy command and
//! its children, each started as the leader of a group of its own.

/// Send `sig` to the whole process group `pgid`. A group that is gone only yields ESRCH,
/// and a `pgid` of 0 or less (which would signal ft's own group, or every process) is
/// never signalled.
pub fn signal_group(pgid: i32, sig: i32) {
    if pgid > 0 {
        // SAFETY: a plain syscall on a plain integer; no memory is involved.
        unsafe {
            libc::killpg(pgid, sig);
        }
    }
}
