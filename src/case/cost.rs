//! What one case asks of the runner, counted from its description before it
//! runs: the frames a step builds at once and the sync flushes of one
//! compressed message (`step_frames`), and over the whole case, every
//! `repeat` (of a frame, and of a block of steps) multiplied out, the payload
//! bytes it sends or expects (`case_bytes`) and its steps, frames and expected
//! events (`case_events`). A case that passes a limit is refused at the step,
//! handshake or expectation that crossed it, so `check` finds what `run`
//! could not survive.

use super::limits::{Limit, CASE_BYTES, CASE_EVENTS, STEP_FRAMES};
use super::model::{CaseSpec, EventPattern, SendFrame, Step};
use super::yaml::{Loc, Node, NodeKind};

/// What a case asks for, counted: its totals with every repeat multiplied
/// out, and the most frames (or flushes) one of its steps builds at once.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub bytes: u64,
    pub events: u64,
    pub step_frames: u64,
}

impl Tally {
    /// Adds `bytes` and `events`, each `times` over, refusing at `loc` once
    /// a total passes its limit.
    fn add(&mut self, bytes: u64, events: u64, times: u64, loc: Loc) -> Result<(), (Loc, String)> {
        self.bytes = self.bytes.saturating_add(bytes.saturating_mul(times));
        self.events = self.events.saturating_add(events.saturating_mul(times));
        let over = |limit: &Limit, n: u64, what: &str| {
            limit.exceeded_by(n).then(|| {
                (
                    loc,
                    limit.refuse(format!(
                        "with every repeat multiplied out, the case's {what} reach {n} here"
                    )),
                )
            })
        };
        match over(&CASE_BYTES, self.bytes, "payload bytes").or_else(|| {
            over(
                &CASE_EVENTS,
                self.events,
                "steps, frames and expected events",
            )
        }) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Checks a case against the limits; `node` is the case as written, for the
/// positions of its steps. Returns what it counted.
pub fn check(spec: &CaseSpec, node: &Node) -> Result<Tally, (Loc, String)> {
    let mut tally = Tally::default();
    let handshake = node.get("handshake").map_or(node.loc, |n| n.loc);
    let hs = &spec.handshake;
    for p in [&hs.raw, &hs.response].into_iter().flatten() {
        tally.add(p.len() as u64, 1, 1, handshake)?;
    }
    let (bytes, frames) = frames_of(&hs.frames, handshake, &mut tally)?;
    tally.add(bytes, frames, 1, handshake)?;
    steps(&spec.steps, node.get("steps"), node.loc, 1, &mut tally)?;
    let expect = node.get("expect");
    let expect_loc = expect.map_or(node.loc, |n| n.loc);
    let e = &spec.expect;
    let mut lists: Vec<(&[EventPattern], Option<&Node>)> = vec![
        (&e.ok, expect.and_then(|n| n.get("ok"))),
        (
            e.non_strict.as_deref().unwrap_or_default(),
            expect.and_then(|n| n.get("non_strict")),
        ),
    ];
    let also_nodes = expect.and_then(|n| n.get("also"));
    for (i, alt) in e.also.iter().enumerate() {
        let alt_node = item(also_nodes, i);
        lists.push((&alt.events, alt_node.and_then(|n| n.get("events"))));
    }
    for (patterns, list) in lists {
        let list_loc = list.map_or(expect_loc, |n| n.loc);
        for (i, p) in patterns.iter().enumerate() {
            let loc = item(list, i).map_or(list_loc, |n| n.loc);
            let (bytes, events) = match p {
                EventPattern::Echoes(n) | EventPattern::Pongs(n) => (0, u64::from(*n)),
                EventPattern::Text(p) | EventPattern::Binary(p) | EventPattern::PongOf(p) => {
                    (p.len() as u64, 1)
                }
                EventPattern::Echo | EventPattern::Pong | EventPattern::Marker(_) => (0, 1),
            };
            tally.add(bytes, events, 1, loc)?;
        }
    }
    Ok(tally)
}

/// The `i`-th item of a list node, if there is one.
fn item(list: Option<&Node>, i: usize) -> Option<&Node> {
    match list.map(|n| &n.kind) {
        Some(NodeKind::Seq(items)) => items.get(i),
        _ => None,
    }
}

/// Walks a list of steps run `times` times; `list` is their node, `outer`
/// the position to blame when a step's own node cannot be found.
fn steps(
    list: &[Step],
    nodes: Option<&Node>,
    outer: Loc,
    times: u64,
    tally: &mut Tally,
) -> Result<(), (Loc, String)> {
    for (i, step) in list.iter().enumerate() {
        let node = item(nodes, i);
        let loc = node.map_or(outer, |n| n.loc);
        match step {
            Step::Send(f) => {
                let (bytes, frames) = frames_of(std::slice::from_ref(f), loc, tally)?;
                tally.add(bytes, 1 + frames, times, loc)?;
            }
            Step::SendFrames(batch) => {
                let (bytes, frames) = frames_of(&batch.frames, loc, tally)?;
                tally.add(bytes, 1 + frames, times, loc)?;
            }
            Step::SendRaw(raw) => tally.add(raw.bytes.len() as u64, 1, times, loc)?,
            Step::Close(c) => tally.add(c.reason.len() as u64 + 2, 2, times, loc)?,
            Step::Repeat(r) => {
                tally.add(0, 1, times, loc)?;
                let inner = node
                    .and_then(|n| n.get("repeat"))
                    .and_then(|n| n.get("steps"));
                let times = times.saturating_mul(u64::from(r.times));
                steps(&r.steps, inner, loc, times, tally)?;
            }
            Step::Pause(_) | Step::Marker(_) | Step::Wait(_) | Step::Drop | Step::Http2(_) => {
                tally.add(0, 1, times, loc)?
            }
        }
    }
    Ok(())
}

/// Payload bytes and frames of frames sent together (one `send`, one
/// `send_frames` batch, the handshake's frames), refused at `loc` when they
/// build more than `step_frames` frames at once or one message flushes
/// more often than that.
fn frames_of(
    frames: &[SendFrame],
    loc: Loc,
    tally: &mut Tally,
) -> Result<(u64, u64), (Loc, String)> {
    let (mut bytes, mut count) = (0u64, 0u64);
    for f in frames {
        let len = f.payload.len() as u64;
        let repeat = u64::from(f.repeat.max(1));
        let mut wire_len = len;
        if f.compress.enabled {
            let flushes = flushes(&f.compress, len);
            if STEP_FRAMES.exceeded_by(flushes) {
                return Err((
                    loc,
                    STEP_FRAMES.refuse(format!(
                        "this step's compressed message would flush {flushes} times"
                    )),
                ));
            }
            tally.step_frames = tally.step_frames.max(flushes);
            // Deflate's worst case: stored blocks of at most 64 KiB (5 bytes
            // of header each) and 5 bytes per sync flush.
            wire_len = len + 5 * (len / 16_384 + flushes + 2);
        }
        // As the runner splits: no fragment (or 0) is one frame, and so is
        // an empty payload.
        let pieces = match f.fragment {
            Some(n) if n > 0 => wire_len.div_ceil(n as u64).max(1),
            _ => 1,
        };
        bytes = bytes.saturating_add(len.saturating_mul(repeat));
        count = count.saturating_add(pieces.saturating_mul(repeat));
    }
    if STEP_FRAMES.exceeded_by(count) {
        return Err((
            loc,
            STEP_FRAMES.refuse(format!("this step would build {count} frames at once")),
        ));
    }
    tally.step_frames = tally.step_frames.max(count);
    Ok((bytes, count))
}

/// How many sync flushes a compressed message of `len` bytes asks for, at
/// most (without building the list).
fn flushes(c: &super::model::CompressSpec, len: u64) -> u64 {
    // `flush_every: 0` is refused as it is read; it would be no flush.
    let every = c.flush_every.map_or(0, |e| {
        len.saturating_sub(1)
            .checked_div(e as u64)
            .unwrap_or_default()
    });
    every.saturating_add(c.flush_at.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::de::from_node;
    use crate::case::yaml::parse;

    /// Checks one case whose steps (and expectations) are given as YAML.
    fn checked(steps: &str, ok: &str) -> Result<(), String> {
        let text = format!(
            "id: t.1\ntitle: t\nrequirement: MUST\nsteps:\n{steps}expect:\n  ok: {ok}\n  close: {{by: peer}}\n"
        );
        let node = parse(&text).expect("yaml");
        let spec: CaseSpec = from_node(&node).map_err(|e| e.message)?;
        check(&spec, &node)
            .map(|_| ())
            .map_err(|(loc, m)| format!("{loc}: {m}"))
    }

    const MIB64: &str = "{repeat: x, len: 67108864}";

    #[test]
    fn step_frames_bound_fragments_and_frame_repeats() {
        // 64 MiB in 64-byte fragments: 1,048,576 frames, one step over.
        let e = checked(
            &format!("  - send: {{opcode: text, payload: {MIB64}, fragment: 64}}\n"),
            "[]",
        )
        .expect_err("too many fragments");
        assert!(
            e.starts_with("5:5: this step would build 1048576 frames at once, over the limit `step_frames` of 1000000"),
            "{e}"
        );
        // 128-byte fragments: half as many, allowed.
        checked(
            &format!("  - send: {{opcode: text, payload: {MIB64}, fragment: 128}}\n"),
            "[]",
        )
        .expect("524288 frames");
        // A frame repeated a million times is a million frames; once more is over.
        checked("  - send: {opcode: ping, repeat: 1000000}\n", "[]").expect("1e6");
        let e = checked("  - send: {opcode: ping, repeat: 1000001}\n", "[]").expect_err("1e6+1");
        assert!(e.contains("1000001 frames at once"), "{e}");
        // A batch counts all its frames together.
        let e = checked(
            "  - send_frames:\n      frames:\n        - {opcode: ping, repeat: 600000}\n        - {opcode: ping, repeat: 600000}\n",
            "[]",
        )
        .expect_err("batch");
        assert!(
            e.starts_with("5:5: this step would build 1200000 frames"),
            "{e}"
        );
        // Flushes inside one compressed message.
        let e = checked(
            &format!(
                "  - send: {{opcode: text, payload: {MIB64}, compress: {{flush_every: 1}}}}\n"
            ),
            "[]",
        )
        .expect_err("flushes");
        assert!(e.contains("would flush 67108863 times"), "{e}");
        checked(
            &format!(
                "  - send: {{opcode: text, payload: {MIB64}, compress: {{flush_every: 128}}}}\n"
            ),
            "[]",
        )
        .expect("524287 flushes");
    }

    /// What each step, the handshake and each expectation count, exactly.
    #[test]
    fn every_kind_of_step_is_counted() {
        let node = parse(
            "id: t.1\ntitle: t\nrequirement: MUST\nhandshake:\n  raw: {repeat: r, len: 100}\n  frames: [{opcode: text, payload: abc, repeat: 2}]\nsteps:\n  - send: {opcode: text, payload: {repeat: x, len: 10}, fragment: 4}\n  - send_frames:\n      frames: [{opcode: ping, payload: ab}, {opcode: pong, repeat: 3}]\n  - send_raw: {bytes: {hex: '00 01'}}\n  - close: {code: 1000, reason: bye}\n  - repeat: {times: 5, steps: [{pause: 1ms}, {send: {opcode: binary, payload: abcd}}]}\n  - wait: echo\n  - drop\nexpect:\n  ok: [echo, {echoes: 7}, {text: hello}, pong, {pongs: 2}, {pong_of: xy}, {binary: ''}, {marker: m}]\n  non_strict: [{text: abc}]\n  close: {by: peer}\n  also:\n    - {grade: OK, events: [{echoes: 4}], close: {by: peer}, because: x}\n",
        )
        .expect("yaml");
        let spec: CaseSpec = from_node(&node).expect("case");
        let t = check(&spec, &node).expect("small");
        // Bytes: handshake 100 + 2 x 3; steps 10, 2, 2, 2 + 3, 5 x 4;
        // expected 5 + 2 + 3.
        assert_eq!(t.bytes, 100 + 6 + 10 + 2 + 2 + 5 + 20 + 5 + 2 + 3);
        // Events: handshake raw 1 + 2 frames; send 1 + 3 fragments;
        // send_frames 1 + 4 frames; send_raw 1; close 2; repeat 1 + 5 x (1
        // + 2); wait 1; drop 1; expected 1 + 7 + 1 + 1 + 2 + 1 + 1 + 1, 1, 4.
        assert_eq!(t.events, 3 + 4 + 5 + 1 + 2 + (1 + 15) + 1 + 1 + 15 + 1 + 4);
        assert_eq!(t.step_frames, 4);
    }

    #[test]
    fn compressed_messages_are_counted_at_their_largest() {
        // 64,000,000 bytes in 64-byte fragments: exactly 1,000,000 frames.
        let send = |extra: &str| {
            checked(
                &format!("  - send: {{opcode: text, payload: {{repeat: x, len: 64000000}}, fragment: 64{extra}}}\n"),
                "[]",
            )
        };
        send("").expect("1,000,000 frames");
        // Compressed, it may grow by 5 bytes per stored block of 16 KiB
        // (and 10 more): 64,019,540 bytes, 1,000,306 frames.
        let e = send(", compress: true").expect_err("compressed");
        assert!(
            e.starts_with("5:5: this step would build 1000306 frames at once"),
            "{e}"
        );
        // Each flush adds 5 bytes more.
        let e = send(", compress: {flush_at: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}")
            .expect_err("flushed");
        assert!(e.contains("would build 1000307 frames"), "{e}");
        // An empty payload, or `fragment: 0` (refused by the loader), is one frame.
        let e = checked(
            "  - send: {opcode: text, fragment: 10, repeat: 1000001}\n",
            "[]",
        )
        .expect_err("empty");
        assert!(e.contains("1000001 frames at once"), "{e}");
        let e = checked(
            "  - send: {opcode: text, payload: hi, fragment: 0, repeat: 1000001}\n",
            "[]",
        )
        .expect_err("fragment 0");
        assert!(e.contains("1000001 frames at once"), "{e}");
        // Flushes at the end of the message count as asked.
        let e = checked(
            "  - send: {opcode: text, payload: {repeat: x, len: 1000002}, compress: {flush_every: 1}}\n",
            "[]",
        )
        .expect_err("1000001 flushes");
        assert!(e.contains("would flush 1000001 times"), "{e}");
    }

    #[test]
    fn case_bytes_multiply_every_repeat() {
        // 16 x 64 MiB = 1 GiB: exactly the limit.
        let at = |frame_repeat: u32, times: u32| {
            checked(
                &format!(
                    "  - wait: echo\n  - repeat:\n      times: {times}\n      steps:\n        - send: {{opcode: binary, payload: {MIB64}, repeat: {frame_repeat}}}\n"
                ),
                "[]",
            )
        };
        at(4, 4).expect("1 GiB");
        at(16, 1).expect("1 GiB");
        let e = at(17, 1).expect_err("17 x 64 MiB");
        assert!(
            e.starts_with("9:11: with every repeat multiplied out, the case's payload bytes reach 1140850688 here, over the limit `case_bytes` of 1073741824 (1 GiB)"),
            "{e}"
        );
        assert!(at(4, 5).is_err_and(|e| e.starts_with("9:11:")));
        // Nested repeats multiply: 1000 x 1000 x 2 KiB is about 2 GB.
        let e = checked(
            "  - repeat:\n      times: 1000\n      steps:\n        - repeat:\n            times: 1000\n            steps:\n              - send: {opcode: text, payload: {repeat: x, len: 2048}}\n",
            "[]",
        )
        .expect_err("nested");
        assert!(
            e.starts_with("11:17: with every repeat multiplied out, the case's payload bytes reach 2048000000 here"),
            "{e}"
        );
        // Products past u64 saturate: no overflow, refused at the inner repeat.
        let e = checked(
            "  - repeat:\n      times: 4294967295\n      steps:\n        - repeat:\n            times: 4294967295\n            steps:\n              - repeat: {times: 4294967295, steps: [{send: {opcode: ping}}]}\n",
            "[]",
        )
        .expect_err("nested");
        assert!(e.starts_with("8:11: "), "{e}");
        assert!(e.contains("`case_events`"), "{e}");
        // Raw bytes and close reasons count, and so do expected payloads.
        let e = checked(
            &format!("  - repeat: {{times: 17, steps: [{{send_raw: {{bytes: {MIB64}}}}}]}}\n"),
            "[]",
        )
        .expect_err("raw");
        assert!(e.contains("`case_bytes`"), "{e}");
        let e = checked(
            "  - wait: echo\n",
            &format!("[{}]", vec![format!("{{text: {MIB64}}}"); 17].join(", ")),
        )
        .expect_err("expected texts");
        assert!(e.starts_with("7:"), "{e}");
        assert!(e.contains("`case_bytes`"), "{e}");
    }

    #[test]
    fn case_events_count_steps_frames_and_expected_events() {
        // 2,000,000 pings in a loop: 1 + 2 x 10^6 x (step + frame) is over.
        let e = checked(
            "  - repeat: {times: 2000000, steps: [{send: {opcode: ping}}]}\n",
            "[]",
        )
        .expect_err("pings");
        assert!(
            e.contains("the case's steps, frames and expected events reach 4000001 here, over the limit `case_events` of 4000000"),
            "{e}"
        );
        checked(
            "  - repeat: {times: 1999999, steps: [{send: {opcode: ping}}]}\n",
            "[]",
        )
        .expect("just under");
        let e = checked("  - wait: echo\n", "[{echoes: 4294967295}]").expect_err("echoes");
        assert!(e.starts_with("7:8: "), "{e}");
        assert!(e.contains("`case_events`"), "{e}");
        let e = checked(
            "  - repeat: {times: 4294967295, steps: [{pause: 1ms}]}\n",
            "[]",
        )
        .expect_err("pauses");
        assert!(e.contains("`case_events`"), "{e}");
    }
}
