/* i386 system calls without libc (built with -m32 -nostdlib where the compiler can): dup(1) —
 * 41 on i386, socket's number on x86-64 — then close and exit. The kernel engine must not read
 * them as 64-bit calls, and must say that it does not see them. */
void _start(void) {
  int fd;
  __asm__ volatile("int $0x80" : "=a"(fd) : "a"(41), "b"(1) : "memory");
  __asm__ volatile("int $0x80" : : "a"(6), "b"(fd) : "memory");
  __asm__ volatile("int $0x80" : : "a"(1), "b"(0) : "memory");
  for (;;) {
  }
}
