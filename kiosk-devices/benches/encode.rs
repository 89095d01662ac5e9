//! Encoding a 30-line receipt to ESC/POS. Target: under 200 µs.
//! Run: `cargo bench -p kiosk-devices --bench encode`.

use criterion::{Criterion, criterion_group, criterion_main};
use kiosk_core::receipt::{Align, Block, Document};
use kiosk_devices::printer::{COLUMNS, encode};

fn thirty_lines() -> Document {
    let mut blocks = vec![
        Block::Text { text: "Brasserie du Marché".into(), align: Align::Center, bold: true },
        Block::Large { text: "A042".into() },
        Block::Rule,
    ];
    for n in 0..30 {
        blocks.push(Block::Columns {
            left: format!("1 x Crème brûlée no {n}"), right: "5.50 €".into(), bold: false
        });
    }
    blocks.extend([
        Block::Rule,
        Block::Columns { left: "TOTAL".into(), right: "165.00 €".into(), bold: true },
        Block::Qr { data: "https://r.example/A042".into() },
        Block::Feed { lines: 3 },
        Block::Cut,
    ]);
    Document { blocks }
}

fn encode_receipt(c: &mut Criterion) {
    let document = thirty_lines();
    c.bench_function("encode a 30-line receipt to ESC/POS", |b| b.iter(|| encode(&document, COLUMNS).unwrap()));
}

criterion_group!(benches, encode_receipt);
criterion_main!(benches);
