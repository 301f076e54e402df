/* JSON-RPC 2.0 over newline-delimited messages: the line reader, message
 * classification with the standard error codes, and message builders. */
#include "mcp-internal.h"

#include <string.h>

/* Bytes asked of each read(2). */
#define READ_CHUNK_BYTES (64 * 1024)

void
mcp_line_reader_init (struct mcp_line_reader *reader, size_t max_line_bytes)
{
  memset (reader, 0, sizeof *reader);
  reader->max_line_bytes = max_line_bytes;
}

void
mcp_line_reader_destroy (struct mcp_line_reader *reader)
{
  free (reader->buffer);
  reader->buffer = NULL;
  reader->capacity = reader->start = reader->length = reader->scanned = 0;
}

/* Make room for one READ_CHUNK_BYTES read after the buffered bytes. */
static void
reserve_chunk (struct mcp_line_reader *reader)
{
  size_t pending = reader->length - reader->start;
  size_t needed;

  if (reader->start > 0)
    {
      memmove (reader->buffer, reader->buffer + reader->start, pending);
      reader->start = 0;
      reader->length = pending;
    }

  needed = pending + READ_CHUNK_BYTES;
  if (reader->capacity < needed)
    {
      size_t capacity = reader->capacity > 0 ? reader->capacity : READ_CHUNK_BYTES;

      while (capacity < needed)
        capacity *= 2;
      reader->buffer = xrealloc (reader->buffer, capacity);
      reader->capacity = capacity;
    }
}

ssize_t
mcp_line_reader_fill (struct mcp_line_reader *reader, int fd)
{
  ssize_t n;

  reserve_chunk (reader);
  n = TEMP_FAILURE_RETRY (read (fd, reader->buffer + reader->length, READ_CHUNK_BYTES));
  if (n < 0)
    return -1;
  if (n == 0)
    reader->eof = true;
  reader->length += (size_t) n;
  return n;
}

enum mcp_line_status
mcp_line_reader_next (struct mcp_line_reader *reader, const char **line, size_t *length)
{
  char *begin;
  size_t pending = reader->length - reader->start;
  char *newline = NULL;

  /* Nothing was read yet, and arithmetic on the NULL buffer would be
   * undefined behaviour. */
  if (reader->buffer == NULL)
    return MCP_LINE_NONE;
  begin = reader->buffer + reader->start;
  if (pending > reader->scanned)
    newline = memchr (begin + reader->scanned, '\n', pending - reader->scanned);

  if (newline != NULL)
    {
      size_t line_length = (size_t) (newline - begin);
      bool too_long = reader->discarding || line_length > reader->max_line_bytes;

      reader->start += line_length + 1;
      reader->scanned = 0;
      reader->discarding = false;
      if (too_long)
        return MCP_LINE_TOO_LONG;
      *line = begin;
      *length = line_length;
      return MCP_LINE_OK;
    }

  /* No newline buffered. An oversized partial line is dropped now, so that
   * memory stays bounded, and reported once its end arrives. */
  if (reader->discarding || pending > reader->max_line_bytes)
    {
      reader->discarding = true;
      reader->start = reader->length = reader->scanned = 0;
    }
  else
    reader->scanned = pending;

  if (!reader->eof)
    return MCP_LINE_NONE;

  /* At end of file the unterminated rest is the last line. */
  if (reader->discarding)
    {
      reader->discarding = false;
      return MCP_LINE_TOO_LONG;
    }
  if (pending == 0)
    return MCP_LINE_NONE;
  reader->start = reader->length;
  reader->scanned = 0;
  *line = begin;
  *length = pending;
  return MCP_LINE_OK;
}

static bool
is_blank (const char *line, size_t length)
{
  size_t i;

  for (i = 0; i < length; i++)
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
      return false;
  return true;
}

static bool
is_valid_id (json_t *id)
{
  return json_is_string (id) || json_is_integer (id);
}

static void OMCP_PRINTF (3, 4)
set_invalid (struct mcp_message *message, int code, const char *fmt, ...)
{
  va_list ap;

  message->kind = MCP_MESSAGE_INVALID;
  message->error_code = code;
  va_start (ap, fmt);
  vsnprintf (message->error_message, sizeof message->error_message, fmt, ap);
  va_end (ap);
}

void
mcp_message_parse (const char *line, size_t length, struct mcp_message *message)
{
  json_error_t parse_error;
  json_t *root;
  json_t *version;
  json_t *method;
  json_t *id;
  json_t *params;

  memset (message, 0, sizeof *message);
  if (is_blank (line, length))
    {
      message->kind = MCP_MESSAGE_BLANK;
      return;
    }

  /* json_loadb rejects NUL bytes and invalid UTF-8, and JSON_DECODE_ANY
   * lets a bare scalar parse so that it gets -32600 instead of -32700. */
  root = json_loadb (line, length, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &parse_error);
  if (root == NULL)
    {
      set_invalid (message, MCP_PARSE_ERROR, "Parse error: %s at byte %d", parse_error.text,
                   parse_error.position);
      return;
    }
  message->root = root;

  if (json_is_array (root))
    {
      set_invalid (message, MCP_INVALID_REQUEST,
                   "Invalid request: batches (JSON arrays) are not supported; send one message "
                   "per line");
      return;
    }
  if (!json_is_object (root))
    {
      set_invalid (message, MCP_INVALID_REQUEST, "Invalid request: expected a JSON object");
      return;
    }

  /* Echo the id in an error only when it is valid, otherwise send null. */
  id = json_object_get (root, "id");
  if (is_valid_id (id))
    message->id = id;

  method = json_object_get (root, "method");
  if (method == NULL && (json_object_get (root, "result") || json_object_get (root, "error")))
    {
      message->kind = MCP_MESSAGE_RESPONSE;
      return;
    }

  version = json_object_get (root, "jsonrpc");
  if (version == NULL)
    {
      set_invalid (message, MCP_INVALID_REQUEST, "Invalid request: missing \"jsonrpc\": \"2.0\"");
      return;
    }
  if (!json_is_string (version) || strcmp (json_string_value (version), "2.0") != 0)
    {
      set_invalid (message, MCP_INVALID_REQUEST, "Invalid request: \"jsonrpc\" must be \"2.0\"");
      return;
    }
  if (method == NULL)
    {
      set_invalid (message, MCP_INVALID_REQUEST, "Invalid request: missing \"method\"");
      return;
    }
  if (!json_is_string (method))
    {
      set_invalid (message, MCP_INVALID_REQUEST, "Invalid request: \"method\" must be a string");
      return;
    }
  if (id != NULL && !is_valid_id (id))
    {
      set_invalid (message, MCP_INVALID_REQUEST,
                   "Invalid request: \"id\" must be a string or an integer");
      return;
    }
  params = json_object_get (root, "params");
  if (params != NULL && !json_is_object (params) && !json_is_array (params))
    {
      set_invalid (message, MCP_INVALID_REQUEST,
                   "Invalid request: \"params\" must be an object or an array");
      return;
    }

  message->method = json_string_value (method);
  message->params = params;
  message->kind = id != NULL ? MCP_MESSAGE_REQUEST : MCP_MESSAGE_NOTIFICATION;
}

void
mcp_message_clear (struct mcp_message *message)
{
  json_decref (message->root);
  memset (message, 0, sizeof *message);
}

static json_t *
envelope_new (json_t *id)
{
  json_t *message = json_object ();

  json_object_set_new (message, "jsonrpc", json_string ("2.0"));
  json_object_set_new (message, "id", id != NULL ? json_deep_copy (id) : json_null ());
  return message;
}

json_t *
mcp_response_new (json_t *id, json_t *result)
{
  json_t *message = envelope_new (id);

  json_object_set_new (message, "result", result);
  return message;
}

json_t *
mcp_error_response_new (json_t *id, int code, const char *text)
{
  json_t *message = envelope_new (id);
  json_t *error = json_object ();
  json_t *text_value = json_string (text);

  /* A parse error message may quote invalid UTF-8 from the client, which a
   * JSON string cannot carry. */
  if (text_value == NULL)
    {
      size_t clean_length;
      cleanup_free char *clean = utf8_sanitize (text, strlen (text), &clean_length);

      text_value = json_stringn (clean, clean_length);
    }
  json_object_set_new (error, "code", json_integer (code));
  json_object_set_new (error, "message", text_value);
  json_object_set_new (message, "error", error);
  return message;
}

json_t *
mcp_notification_new (const char *method, json_t *params)
{
  json_t *message = json_object ();

  json_object_set_new (message, "jsonrpc", json_string ("2.0"));
  json_object_set_new (message, "method", json_string (method));
  if (params != NULL)
    json_object_set_new (message, "params", params);
  return message;
}

char *
mcp_message_dump (json_t *message, size_t *length)
{
  /* JSON_COMPACT output escapes control characters inside strings, so the
   * only newline is the one appended here. */
  size_t size = json_dumpb (message, NULL, 0, JSON_COMPACT);
  char *text;

  if (size == 0)
    return NULL;
  text = xmalloc (size + 1);
  if (json_dumpb (message, text, size, JSON_COMPACT) != size)
    {
      free (text);
      return NULL;
    }
  text[size] = '\n';
  *length = size + 1;
  return text;
}

char *
mcp_json_to_text (json_t *value)
{
  char *text;

  if (value == NULL)
    return xstrdup ("null");
  text = json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY);
  if (text == NULL)
    return xstrdup ("(unprintable)");
  return text;
}
