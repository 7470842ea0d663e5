// Preloaded in a `pli` child (`node --import`, test/cli/support.ts, stopAfterFirstPlaintext):
// wraps the writes of the main thread so that, right after the first write of bytes to a file
// under $PLI_TEST_STOP_UNDER (a decryption's plaintext goes to its temporary folder there), the
// process stops itself with SIGSTOP, and the test signals it at that known point. The file's path
// is read from /proc/self/fd (Linux), since a FileHandle does not know its path. The addon's
// reader (native/reader.c) writes from its own threads, unseen here: a timer also looks every
// millisecond for a file under that folder with bytes in it, which stops the process as early.
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
const under = process.env.PLI_TEST_STOP_UNDER;
if (under && isMainThread) {
  let done = false;
  const after = (fd, written) => {
    if (done || !(written > 0)) return;
    let target = '';
    try { target = fs.readlinkSync('/proc/self/fd/' + fd); } catch { return; }
    if (!target.startsWith(under + path.sep)) return;
    done = true;
    process.kill(process.pid, 'SIGSTOP');
  };
  const probe = await open(process.execPath, 'r');
  const FileHandle = Object.getPrototypeOf(probe);
  await probe.close();
  for (const name of ['write', 'writev']) {
    const real = FileHandle[name];
    FileHandle[name] = async function (...args) {
      const result = await real.apply(this, args);
      after(this.fd, result.bytesWritten);
      return result;
    };
  }
  // The addon's writes: a file of the folder open in this process, no longer empty.
  const poll = setInterval(() => {
    if (done) return clearInterval(poll);
    let fds = [];
    try { fds = fs.readdirSync('/proc/self/fd'); } catch { return; }
    for (const fd of fds) {
      let target = '';
      try { target = fs.readlinkSync('/proc/self/fd/' + fd); } catch { continue; }
      if (!target.startsWith(under + path.sep)) continue;
      let size = 0;
      try { size = fs.fstatSync(Number(fd)).size; } catch { continue; }
      if (size > 0) return after(Number(fd), size);
    }
  }, 1);
  poll.unref();
  const realWriteSync = fs.writeSync;
  fs.writeSync = function (fd, ...args) {
    const written = realWriteSync.call(this, fd, ...args);
    after(fd, written);
    return written;
  };
}
