/* Framing of the control socket between the server and a supervisor: one
 * SOCK_SEQPACKET message each, descriptors as SCM_RIGHTS. */
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "sandbox-internal.h"

#define MAX_FDS 4

int
supervisor_send (int fd, const struct supervisor_message *msg, const void *payload,
                 size_t payload_len, const int *fds, size_t n_fds)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov[2] = {
    { (void *) msg, sizeof *msg },
    { (void *) payload, payload_len },
  };
  struct msghdr mh = { 0 };
  ssize_t n;

  mh.msg_iov = iov;
  mh.msg_iovlen = payload_len ? 2 : 1;
  if (n_fds > 0)
    {
      struct cmsghdr *cmsg;

      if (n_fds > MAX_FDS)
        {
          errno = EINVAL;
          return -1;
        }
      memset (&control, 0, sizeof control);
      mh.msg_control = control.buf;
      mh.msg_controllen = CMSG_SPACE (sizeof (int) * n_fds);
      cmsg = CMSG_FIRSTHDR (&mh);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int) * n_fds);
      memcpy (CMSG_DATA (cmsg), fds, sizeof (int) * n_fds);
    }
  n = TEMP_FAILURE_RETRY (sendmsg (fd, &mh, MSG_NOSIGNAL));
  if (n < 0)
    return -1;
  if ((size_t) n != sizeof *msg + payload_len)
    {
      errno = EMSGSIZE;
      return -1;
    }
  return 0;
}

ssize_t
supervisor_recv (int fd, struct supervisor_message *msg, void *payload, size_t payload_size,
                 int *fds, size_t max_fds, size_t *n_fds)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov[2] = {
    { msg, sizeof *msg },
    { payload, payload_size },
  };
  struct msghdr mh = { 0 };
  struct cmsghdr *cmsg;
  ssize_t n;

  if (n_fds)
    *n_fds = 0;
  mh.msg_iov = iov;
  mh.msg_iovlen = payload_size ? 2 : 1;
  mh.msg_control = control.buf;
  mh.msg_controllen = sizeof control.buf;
  n = TEMP_FAILURE_RETRY (recvmsg (fd, &mh, MSG_CMSG_CLOEXEC));
  if (n < 0)
    return -1;
  if (n == 0)
    {
      /* The peer closed the socket. */
      errno = EPIPE;
      return -1;
    }

  for (cmsg = CMSG_FIRSTHDR (&mh); cmsg; cmsg = CMSG_NXTHDR (&mh, cmsg))
    {
      size_t count, i;
      int received[MAX_FDS];

      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
        continue;
      count = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      if (count > MAX_FDS)
        count = MAX_FDS;
      memcpy (received, CMSG_DATA (cmsg), count * sizeof (int));
      for (i = 0; i < count; i++)
        {
          if (fds && n_fds && *n_fds < max_fds)
            fds[(*n_fds)++] = received[i];
          else
            close (received[i]);
        }
    }
  if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t) n < sizeof *msg)
    {
      if (fds && n_fds)
        for (size_t i = 0; i < *n_fds; i++)
          close (fds[i]);
      if (n_fds)
        *n_fds = 0;
      errno = EMSGSIZE;
      return -1;
    }
  return n - (ssize_t) sizeof *msg;
}
