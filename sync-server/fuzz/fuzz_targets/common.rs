//! Shared by the fuzz targets: the server deliberately catches panics of yrs' decoders on
//! hostile input (and refuses the input); libfuzzer-sys' panic hook would abort on those
//! caught panics too, so each target installs a silent hook. A panic that is *not* caught
//! still unwinds out of the target, and libfuzzer-sys reports it as a crash.

pub fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}
