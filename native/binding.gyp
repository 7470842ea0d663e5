{
  "targets": [
    {
      "target_name": "pli_gcm",
      "sources": ["gcm.c", "stream.c", "reader.c", "chain.c", "digest.c", "sha256x8.c", "sha256x2.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"]
    }
  ]
}
