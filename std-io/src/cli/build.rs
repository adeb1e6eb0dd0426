pub(crate) async fn build(_a: BuildArgs, _ui: super::Ui) -> crate::error::Result<i32> {
    Ok(0)
}
/// Arguments of `build`.
#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {}
