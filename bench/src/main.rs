//! `caravan-bench`: the load generator and peer comparisons (the benchmarks issue builds it).

fn main() {
    eprintln!("caravan-bench: no scenarios yet; see docs/benchmarks.md when the benchmarks land");
    std::process::exit(2);
}
