/* Replays fuzz inputs without libFuzzer: feeds every regular file in the
 * directories given on the command line to LLVMFuzzerTestOneInput, in name
 * order. A crash, a sanitizer report or a broken rule in the target aborts
 * the process, so the test fails. Fails too when a directory is missing or
 * contains no input, so a wrong path cannot pass unnoticed. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Read the whole regular file DIR_FD/NAME into a heap buffer. Returns NULL
 * with errno set on failure. */
static uint8_t *
read_input (int dir_fd, const char *name, size_t *size)
{
  cleanup_close int fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  uint8_t *data;
  size_t done = 0;

  if (fd < 0 || fstat (fd, &st) < 0)
    return NULL;
  /* One spare byte, so that an empty file still gets a buffer. */
  data = xmalloc ((size_t) st.st_size + 1);
  while (done < (size_t) st.st_size)
    {
      ssize_t n = TEMP_FAILURE_RETRY (read (fd, data + done, (size_t) st.st_size - done));

      if (n <= 0)
        {
          free (data);
          errno = n == 0 ? EIO : errno;
          return NULL;
        }
      done += (size_t) n;
    }
  *size = done;
  return data;
}

static int
is_input (const struct dirent *entry)
{
  return entry->d_name[0] != '.';
}

/* Replay every input of DIRECTORY. Returns the number replayed, or -1. */
static int
replay_directory (const char *directory)
{
  cleanup_close int dir_fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct dirent **entries = NULL;
  int replayed = 0;
  int count;
  int i;

  if (dir_fd < 0)
    {
      fprintf (stderr, "replay: cannot open directory %s: %s\n", directory, strerror (errno));
      return -1;
    }
  count = scandir (directory, &entries, is_input, alphasort);
  if (count < 0)
    {
      fprintf (stderr, "replay: cannot list directory %s: %s\n", directory, strerror (errno));
      return -1;
    }

  for (i = 0; i < count; i++)
    {
      size_t size = 0;
      cleanup_free uint8_t *data = read_input (dir_fd, entries[i]->d_name, &size);

      if (data == NULL)
        {
          fprintf (stderr, "replay: cannot read %s/%s: %s\n", directory, entries[i]->d_name,
                   strerror (errno));
          replayed = -1;
          break;
        }
      printf ("replay %s/%s (%zu bytes)\n", directory, entries[i]->d_name, size);
      fflush (stdout);
      LLVMFuzzerTestOneInput (data, size);
      replayed++;
    }

  for (i = 0; i < count; i++)
    free (entries[i]);
  free (entries);
  return replayed;
}

int
main (int argc, char **argv)
{
  int i;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s DIRECTORY...\n", argv[0]);
      return 2;
    }
  LLVMFuzzerInitialize (&argc, &argv);

  for (i = 1; i < argc; i++)
    {
      int replayed = replay_directory (argv[i]);

      if (replayed < 0)
        return 1;
      if (replayed == 0)
        {
          fprintf (stderr, "replay: no input in %s\n", argv[i]);
          return 1;
        }
      printf ("replayed %d inputs from %s\n", replayed, argv[i]);
    }
  return 0;
}
