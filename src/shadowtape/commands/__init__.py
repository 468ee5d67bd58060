"""One module per `shadowtape` subcommand; see shadowtape.cli for the protocol."""
