//! Runs every seed computation of `shared/seed-cases.md` and prints, under `## <case id>`, the
//! lines PyTorch prints for it.
//!
//! ```text
//! cargo run --release --example seeds
//! ```

mod cases;

fn main() {
    for (i, (id, case)) in cases::CASES.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("## {id}");
        for line in case() {
            println!("{line}");
        }
    }
}
