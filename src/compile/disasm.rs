//! A readable listing of bytecode, for `onramp disasm` and snapshot tests:
//! `0003 Binary(Add)  ; rules/a.ramp:4:9`.

use super::branch::{ConditionCode, Exit, Fast, Operand, ANSWER_FALSE, ANSWER_TRUE};
use super::opcode::Op;
use super::{Bytecode, ChunkId};
use crate::span::SourceMap;
use std::fmt::Write as _;

/// Lists one chunk: each instruction with its operands resolved to
/// something a person can read, and the source location it came from.
pub fn disassemble(
    bytecode: &Bytecode,
    chunk: ChunkId,
    sources: &SourceMap,
    slot_names: &[String],
    rule_names: &[String],
) -> String {
    let mut out = String::new();
    if chunk as usize >= bytecode.chunks.len() {
        return out;
    }
    let c = bytecode.chunk(chunk);
    for (pc, op) in c.code.iter().enumerate() {
        let text = match *op {
            Op::Const(i) => format!("Const {}", render_const(bytecode, i)),
            Op::Slot(s) => format!(
                "Slot {}",
                slot_names.get(s as usize).map_or("?", |n| n.as_str())
            ),
            Op::Rule(r) => format!(
                "Rule {}",
                rule_names.get(r as usize).map_or("?", |n| n.as_str())
            ),
            Op::Field(k) => format!("Field {}", render_const(bytecode, k)),
            Op::SlotCmpConst(s, op, c, _) => format!(
                "SlotCmpConst {} {} {}",
                slot_names.get(s as usize).map_or("?", |n| n.as_str()),
                op.symbol(),
                render_const(bytecode, c)
            ),
            Op::Binary(b) => format!("Binary {}", b.symbol()),
            Op::MakeMap(k) => format!(
                "MakeMap [{}]",
                bytecode
                    .key_lists
                    .get(k as usize)
                    .map(|ks| ks
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            ),
            Op::Call(b, n) => format!("Call {}/{n}", b.name()),
            Op::IterBegin(k) => format!("IterBegin {}", k.name()),
            Op::IterNext(t) => format!("IterNext -> {t:04}"),
            Op::Jump(t) => format!("Jump -> {t:04}"),
            Op::JumpIfFalse(t) => format!("JumpIfFalse -> {t:04}"),
            Op::JumpIfNotNull(t) => format!("JumpIfNotNull -> {t:04}"),
            Op::AndJump(t) => format!("AndJump -> {t:04}"),
            Op::OrJump(t) => format!("OrJump -> {t:04}"),
            other => format!("{other:?}"),
        };
        let at = sources.location(c.spans[pc]);
        let _ = writeln!(out, "{pc:04} {text:<40} ; {at}");
    }
    if let Some(code) = &c.condition {
        out.push_str(&condition_listing(
            bytecode, code, sources, slot_names, rule_names,
        ));
    }
    out
}

/// Lists a chunk's condition code: what the VM runs instead of its
/// instructions. Each test's operand, then where a true and a false (or
/// null) result go, with the steps charged on the way.
fn condition_listing(
    bytecode: &Bytecode,
    code: &ConditionCode,
    sources: &SourceMap,
    slot_names: &[String],
    rule_names: &[String],
) -> String {
    let slot = |s: u32| slot_names.get(s as usize).map_or("?", |n| n.as_str());
    let exit = |e: Exit| {
        let to = match e.to {
            ANSWER_TRUE => "answer true".to_string(),
            ANSWER_FALSE => "answer false".to_string(),
            n => format!("t{n}"),
        };
        match e.cost {
            0 => to,
            n => format!("{to} (+{n})"),
        }
    };
    let mut out = format!(
        "-- as condition tests (run instead), entry t{}\n",
        code.entry
    );
    for (i, t) in code.tests.iter().enumerate() {
        let what = match t.operand {
            Operand::SlotCmpConst(s, op, k, _) => {
                format!("{} {} {}", slot(s), op.symbol(), render_const(bytecode, k))
            }
            Operand::Slot(s) => slot(s).to_string(),
            Operand::Rule(r) => format!(
                "rule {}",
                rule_names.get(r as usize).map_or("?", |n| n.as_str())
            ),
            Operand::ConstInSlot(k, s) => format!("{} in {}", render_const(bytecode, k), slot(s)),
            Operand::Chunk => match t.fast {
                Fast::Constant(b) => b.to_string(),
                Fast::IsNull(s, false) => format!("{} is null", slot(s)),
                Fast::IsNull(s, true) => format!("{} is not null", slot(s)),
                _ => "the code below".to_string(),
            },
        };
        let fast = if t.fast == Fast::No { "" } else { " [fast]" };
        let [on_false, on_true] = t.exits;
        let _ = writeln!(
            out,
            "t{i}   {:<40} ; true -> {}, false -> {}",
            format!("{what}{fast}"),
            exit(on_true),
            exit(on_false)
        );
        if t.operand == Operand::Chunk && t.fast == Fast::No {
            for line in disassemble(bytecode, t.chunk, sources, slot_names, rule_names).lines() {
                let _ = writeln!(out, "     {line}");
            }
        }
    }
    out
}

fn render_const(bytecode: &Bytecode, i: u32) -> String {
    bytecode
        .consts
        .get(i as usize)
        .map(|v| v.to_json().to_string())
        .unwrap_or_else(|| "?".into())
}
