// THE event table: every field, every event type and every traced function, declared once.
// The trace writer and reader, the schema block, the text view, the CSV/JSON columns and
// docs/events.md (`wstrace schema --markdown`) are all derived from these lists.
//
// Rules for changing it (the trace file stays readable both ways):
//  - never renumber or rename; append new fields, events and functions at the end of a list;
//  - a new field of an existing event goes at the END of that event's field list;
//  - readers match fields, events and functions by name through the schema block of the file,
//    so an old reader skips what it does not know and a new reader leaves missing fields unset.

// WS_FIELD(id, type, const_table, description)
//   type: UInt Int Sock Enum Flags Duration (varints) | Addr Str Bytes AddrList PollList (blobs)
#define WS_FIELD_LIST(X)                                                                        \
  X(sock, Sock, None, "socket handle (Windows SOCKET) or file descriptor (Linux)")              \
  X(family, Enum, AddrFamily, "address family")                                                 \
  X(type, Enum, SockType, "socket type")                                                        \
  X(type_flags, Flags, SockTypeFlags, "flags or-ed into the socket type (Linux)")               \
  X(protocol, Enum, Protocol, "protocol")                                                       \
  X(addr, Addr, None, "address argument: the peer for connect/sendto, the local one for bind")  \
  X(peer, Addr, None, "the peer's address as returned (accept, recvfrom, getpeername)")         \
  X(new_sock, Sock, None, "socket created by the call (accept, dup, socketpair)")               \
  X(backlog, Int, None, "listen backlog")                                                       \
  X(len, UInt, None, "bytes offered (send) or room given (recv)")                               \
  X(flags, Flags, MsgFlags, "send/recv flags")                                                  \
  X(count, UInt, None, "how many buffers, messages or sockets the call was given")           \
  X(payload, Bytes, None, "data sent or received, up to the snap length")                       \
  X(how, Enum, ShutdownHow, "which directions shutdown closes")                                 \
  X(level, Enum, SockOptLevel, "socket option level")                                           \
  X(optname, Enum, SockOpt, "socket option")                                                    \
  X(optval, Int, None, "option value as an integer (SO_ERROR holds a pending error)")           \
  X(optlen, UInt, None, "option value length in bytes")                                         \
  X(request, Enum, Ioctl, "ioctl/WSAIoctl/fcntl request")                                       \
  X(arg, UInt, None, "request argument")                                                        \
  X(host, Str, None, "host name looked up or found")                                            \
  X(service, Str, None, "service or port looked up or found")                                   \
  X(hint_family, Enum, AddrFamily, "address family asked for")                                  \
  X(hint_type, Enum, SockType, "socket type asked for")                                         \
  X(hint_flags, Flags, AiFlags, "lookup flags")                                                 \
  X(addrs, AddrList, None, "addresses the lookup returned")                                     \
  X(canon, Str, None, "canonical name returned")                                                \
  X(fds, PollList, None, "sockets waited on: events asked for and events returned")             \
  X(timeout, Duration, None, "timeout given to the call (absent = wait forever)")               \
  X(version, UInt, None, "Winsock version asked for (WSAStartup), as major.minor")              \
  X(op, UInt, None, "overlapped operation id: ties a pending call to its completion")           \
  X(ppid, UInt, None, "parent process id")                                                      \
  X(image, Str, None, "program image path")                                                     \
  X(cmdline, Str, None, "command line (at exit: its first part as the process left it, a title)")\
  X(exit_code, Int, None, "process exit status")                                                \
  X(name, Str, None, "thread name")                                                             \
  X(dropped, UInt, None, "records the agent could not queue since the last drops event")       \
  X(platform, UInt, None, "platform of the process: 1 Linux, 2 Windows")                        \
  X(mask, UInt, FdEvents, "FD_* events asked for (WSAEventSelect/WSAAsyncSelect)")        \
  X(local, Addr, None, "the socket's own address once connected or accepted")                \
  X(qtype, UInt, None, "DNS record type asked for (res_query: 1 A, 28 AAAA, …)")                \
  X(cause, Str, None, "why, in words: tracing lost, calls unseen")                                        \
  X(child, UInt, None, "the process that loses tracing when it is not the event's own")         \
  X(reason, UInt, None, "why records were lost: 1 ring full, 2 no free ring, 3 ring damaged, "  \
                        "4 the kernel engine's ring buffer full")                              \
  X(rings, UInt, None, "rings in the shared region (threads that can record at once)")          \
  X(threads, UInt, None, "threads of the process that found no free ring so far")            \
  X(what, Str, None, "what the agent cannot see: raw-syscalls, io_uring")                       \
  X(listening, UInt, None, "1 when the socket listens for connections")                         \
  X(extension, Str, None, "the extension function asked for (SIO_GET_EXTENSION_FUNCTION_POINTER)") \
  X(tcp_at, UInt, None, "when TCP statistics were read: 1 connected, 2 at an interval, 3 before "    \
    "shutdown, 4 before close")                                                               \
  X(tcp_state, Enum, TcpState, "TCP state")                                                   \
  X(rtt, Duration, None, "smoothed round-trip time")                                          \
  X(rtt_var, Duration, None, "round-trip time variation (Linux)")                             \
  X(min_rtt, Duration, None, "lowest round-trip time seen")                                   \
  X(retrans, UInt, None, "retransmissions: segments (Linux total_retrans), fast retransmits "  \
    "(Windows)")                                                                              \
  X(retrans_bytes, UInt, None, "bytes retransmitted")                                         \
  X(syn_retrans, UInt, None, "SYN retransmissions while connecting")                          \
  X(timeouts, UInt, None, "retransmission timeout episodes (Windows)")                        \
  X(bytes_sent, UInt, None, "bytes sent on the connection, retransmissions included (Linux) or "\
    "not (Windows)")                                                                          \
  X(bytes_recvd, UInt, None, "bytes received on the connection")                           \
  X(noticed, UInt, None, "a completion wstrace found itself, not handed to the program by a "    \
    "hooked call: 1 after a wait on its event (it completed about then), 2 at a later call on "  \
    "its socket (it completed at some time before)")                                              \
  X(old_state, Enum, TcpState, "TCP state before the change")                                 \
  X(stream_offset, UInt, None, "where a range of the connection's outgoing bytes starts: bytes "\
    "sent before it (0: the first byte)")                                                     \
  X(nested, UInt, None, "1: the C library made this call itself, inside a name lookup "         \
    "(the resolver's sockets, getifaddrs' netlink socket): seen by the kernel engine, never "    \
    "by the preload agent")                                                                    \
  X(epfd, Sock, None, "the epoll instance's descriptor (epoll_ctl)")                           \
  X(epoll_op, Enum, EpollOp, "what epoll_ctl does: add, change or remove a watched descriptor") \
  X(events, Flags, EpollEvents, "the events watched for (epoll_ctl)")                          \
  X(data, UInt, None, "the program's own word handed back with each event (epoll_data)")

// WS_EVENT(id, description, fields...) — one per hooked function family, plus process facts.
#define WS_EVENT_LIST(X)                                                                      \
  X(process_start, "a traced process started (or was attached)", ppid, image, cmdline,       \
    platform)                                                                                 \
  X(process_exit, "a traced process ended", exit_code, cmdline)                                        \
  X(thread_name, "a thread was named", name)                                                  \
  X(drops, "the agent had to drop records (see reason)", dropped, reason, rings, threads)        \
  X(startup, "Winsock initialised or cleaned up", version)                                    \
  X(socket, "a socket was created; the result is the new socket", family, type, type_flags,   \
    protocol, nested)                                                                                 \
  X(socketpair, "a pair of connected sockets was created", family, type, type_flags,          \
    protocol, sock, new_sock)                                                                 \
  X(bind, "a local address was given to a socket", sock, addr, nested)                                \
  X(listen, "a socket started listening", sock, backlog)                                      \
  X(connect, "a connection was started or made", sock, addr, local, op, nested)                              \
  X(accept, "a connection was accepted; the result is the new socket", sock, new_sock, peer,  \
    local, op)                                                                                     \
  X(send, "data was sent (local: on a datagram socket's first send, the address the system "   \
    "bound it to)", sock, len, flags, count, addr, payload, op, local, nested)                        \
  X(recv, "data was received", sock, len, flags, count, peer, payload, op, nested)                    \
  X(shutdown, "one or both directions of a connection were closed", sock, how, nested)               \
  X(close, "a socket was closed", sock, nested)                                                       \
  X(dup, "a socket handle was duplicated", sock, new_sock, nested)                                    \
  X(sockopt, "a socket option was set or read", sock, level, optname, optval, optlen, local,  \
    peer, nested)                                                                                     \
  X(ioctl, "a socket control request", sock, request, arg, extension, nested)                         \
  X(sockname, "a socket's local or peer address was asked for", sock, addr, nested)                   \
  X(poll, "the program waited for sockets to become ready (poll, select: count = the sockets "  \
    "when more than fds lists; epoll waits: sock = the epoll descriptor, count = the room for "  \
    "events, fds = the sockets among the first 64 events returned, found from their data words " \
    "through the epoll_ctl calls seen: the result less the entries of fds counts the ready "    \
    "descriptors not listed, not sockets or registered unseen)", fds, timeout, count, sock,     \
    nested)                                                                                   \
  X(lookup, "a name was resolved to addresses", host, service, hint_family, hint_type,        \
    hint_flags, addrs, canon, qtype, len, payload, op)                                                             \
  X(reverse_lookup, "an address was resolved to a name", addr, host, service)                 \
  X(lookup_free, "lookup results were released")                                              \
  X(event_select, "socket events were bound to an event object or window message", sock,      \
    mask)                                                                                     \
  X(io_complete, "a pending overlapped operation completed", sock, op, len, peer, payload,   \
    local, noticed)                                                                           \
  X(tracing_lost, "from here on a process is not traced (an exec or child the agent cannot "   \
    "enter); with an error, the exec failed and tracing goes on", image, cause, child)        \
  X(unseen, "the agent cannot see some of this process's socket calls (what, and why): the "  \
    "trace of it is incomplete, not the program quiet", what, cause, sock, count)                   \
  X(inherited, "a socket the process already had when the agent started in it (inherited "   \
    "across exec or from its parent)", sock, family, type, protocol, local, peer, listening)  \
  X(fork, "the process made a child process (the result is its pid), which starts with the "  \
    "same sockets")                                                                           \
  X(tcp_info, "a connection's TCP statistics as the system keeps them, read by the agent when " \
    "it connected, at intervals, and before shutdown and close", sock, tcp_at, tcp_state,     \
    rtt, rtt_var, min_rtt, retrans, retrans_bytes, syn_retrans, timeouts, bytes_sent,          \
    bytes_recvd)                                                                              \
  X(tcp_state_change, "the system changed a traced connection's TCP state, as the kernel engine " \
    "saw it happen (at the time it did, also outside any call)", sock, old_state, tcp_state)   \
  X(tcp_retransmit, "the system sent part of a traced connection again, as the kernel engine "   \
    "saw it happen: the range of the outgoing bytes it sent again (stream_offset, len bytes: 0 " \
    "for a SYN or FIN alone; count: the segments), the state, and the connection's count of "  \
    "retransmissions as the system kept it then (retrans)", sock, tcp_state, stream_offset,   \
    len, count, retrans)                                                                      \
  X(watch, "a socket was added to an epoll instance's interest list, changed or removed from "  \
    "it (epoll_ctl): which events wake the program's later epoll waits", sock, epfd, epoll_op, \
    events, data)

// WS_FUNC(name, event) — every function wstrace traces, on any platform.
#define WS_FUNC_LIST(X)                                                                       \
  X(process_start, process_start)                                                             \
  X(process_exit, process_exit)                                                               \
  X(thread_name, thread_name)                                                                 \
  X(drops, drops)                                                                             \
  X(WSAStartup, startup)                                                                      \
  X(WSACleanup, startup)                                                                      \
  X(socket, socket)                                                                           \
  X(WSASocketA, socket)                                                                       \
  X(WSASocketW, socket)                                                                       \
  X(socketpair, socketpair)                                                                   \
  X(bind, bind)                                                                               \
  X(listen, listen)                                                                           \
  X(connect, connect)                                                                         \
  X(WSAConnect, connect)                                                                      \
  X(ConnectEx, connect)                                                                       \
  X(accept, accept)                                                                           \
  X(accept4, accept)                                                                          \
  X(WSAAccept, accept)                                                                        \
  X(AcceptEx, accept)                                                                         \
  X(send, send)                                                                               \
  X(sendto, send)                                                                             \
  X(sendmsg, send)                                                                            \
  X(sendmmsg, send)                                                                           \
  X(write, send)                                                                              \
  X(writev, send)                                                                             \
  X(WSASend, send)                                                                            \
  X(WSASendTo, send)                                                                          \
  X(WSASendMsg, send)                                                                         \
  X(TransmitFile, send)                                                                       \
  X(recv, recv)                                                                               \
  X(recvfrom, recv)                                                                           \
  X(recvmsg, recv)                                                                            \
  X(recvmmsg, recv)                                                                           \
  X(read, recv)                                                                               \
  X(readv, recv)                                                                              \
  X(WSARecv, recv)                                                                            \
  X(WSARecvFrom, recv)                                                                        \
  X(WSARecvMsg, recv)                                                                         \
  X(shutdown, shutdown)                                                                       \
  X(DisconnectEx, shutdown)                                                                   \
  X(close, close)                                                                             \
  X(closesocket, close)                                                                       \
  X(dup, dup)                                                                                 \
  X(dup2, dup)                                                                                \
  X(dup3, dup)                                                                                \
  X(fcntl_dupfd, dup)                                                                         \
  X(setsockopt, sockopt)                                                                      \
  X(getsockopt, sockopt)                                                                      \
  X(ioctlsocket, ioctl)                                                                       \
  X(WSAIoctl, ioctl)                                                                          \
  X(ioctl, ioctl)                                                                             \
  X(fcntl, ioctl)                                                                             \
  X(getsockname, sockname)                                                                    \
  X(getpeername, sockname)                                                                    \
  X(select, poll)                                                                             \
  X(poll, poll)                                                                               \
  X(ppoll, poll)                                                                              \
  X(epoll_wait, poll)                                                                         \
  X(WSAPoll, poll)                                                                            \
  X(getaddrinfo, lookup)                                                                      \
  X(GetAddrInfoW, lookup)                                                                     \
  X(GetAddrInfoExW, lookup)                                                                   \
  X(gethostbyname, lookup)                                                                    \
  X(gethostbyname_r, lookup)                                                                  \
  X(res_query, lookup)                                                                        \
  X(res_search, lookup)                                                                       \
  X(DnsQuery_A, lookup)                                                                       \
  X(DnsQuery_W, lookup)                                                                       \
  X(DnsQuery_UTF8, lookup)                                                                    \
  X(getnameinfo, reverse_lookup)                                                              \
  X(GetNameInfoW, reverse_lookup)                                                             \
  X(gethostbyaddr, reverse_lookup)                                                            \
  X(freeaddrinfo, lookup_free)                                                                \
  X(FreeAddrInfoW, lookup_free)                                                               \
  X(FreeAddrInfoExW, lookup_free)                                                             \
  X(WSAEventSelect, event_select)                                                             \
  X(WSAAsyncSelect, event_select)                                                             \
  X(WSAGetOverlappedResult, io_complete)                                                      \
  X(GetOverlappedResult, io_complete)                                                         \
  X(GetQueuedCompletionStatus, io_complete)                                                   \
  X(GetQueuedCompletionStatusEx, io_complete)                                                 \
  X(completion_routine, io_complete)                                                          \
  X(tracing_lost, tracing_lost)                                                               \
  X(sendfile, send)                                                                           \
  X(splice, send)                                                                             \
  X(copy_file_range, send)                                                                    \
  X(splice_recv, recv)                                                                        \
  X(sendmmsg_msg, send)                                                                       \
  X(recvmmsg_msg, recv)                                                                       \
  X(epoll_pwait, poll)                                                                        \
  X(epoll_pwait2, poll)                                                                       \
  X(unseen, unseen)                                                                           \
  X(inherited, inherited)                                                                     \
  X(fork, fork)                                                                               \
  X(tcp_info, tcp_info)                                                                       \
  X(tcp_state_change, tcp_state_change)                                                       \
  X(tcp_retransmit, tcp_retransmit)                                                           \
  X(gethostbyname2, lookup)                                                                   \
  X(gethostbyname2_r, lookup)                                                                 \
  X(epoll_ctl, watch)
