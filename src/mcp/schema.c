/* Validation of tool arguments against the JSON Schema subset that the
 * tools' input schemas use. Messages name the argument by its path:
 * "timeout", "options.env", "files[2].path". */
#include "mcp-internal.h"

#include <string.h>

/* Maximum length in bytes of an argument path in a message. Longer paths
 * are cut. */
#define PATH_BYTES 256

struct validation
{
  char *message;
  size_t size;
};

static bool OMCP_PRINTF (3, 4)
fail (struct validation *validation, const char *path, const char *fmt, ...)
{
  char reason[512];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (reason, sizeof reason, fmt, ap);
  va_end (ap);

  if (path[0] == '\0')
    snprintf (validation->message, validation->size, "Invalid arguments: %s", reason);
  else
    snprintf (validation->message, validation->size, "Invalid argument '%s': %s", path, reason);
  return false;
}

static bool
matches_type (const char *type, json_t *instance)
{
  if (strcmp (type, "object") == 0)
    return json_is_object (instance);
  if (strcmp (type, "array") == 0)
    return json_is_array (instance);
  if (strcmp (type, "string") == 0)
    return json_is_string (instance);
  /* A real such as 5.0 is not an integer here, because tools read integers
   * with json_integer_value, which returns 0 for reals. */
  if (strcmp (type, "integer") == 0)
    return json_is_integer (instance);
  if (strcmp (type, "number") == 0)
    return json_is_number (instance);
  if (strcmp (type, "boolean") == 0)
    return json_is_boolean (instance);
  if (strcmp (type, "null") == 0)
    return json_is_null (instance);
  return false;
}

static bool
check_type (json_t *type, json_t *instance, const char *path, struct validation *validation)
{
  char expected[256] = "";
  size_t used = 0;
  size_t i;
  json_t *name;

  if (type == NULL)
    return true;
  if (json_is_string (type))
    {
      if (matches_type (json_string_value (type), instance))
        return true;
      return fail (validation, path, "expected %s", json_string_value (type));
    }

  json_array_foreach (type, i, name)
    {
      if (!json_is_string (name))
        continue;
      if (matches_type (json_string_value (name), instance))
        return true;
      if (used < sizeof expected)
        used += (size_t) snprintf (expected + used, sizeof expected - used, "%s%s",
                                   used > 0 ? " or " : "", json_string_value (name));
    }
  return fail (validation, path, "expected %s", expected);
}

static bool
check_enum (json_t *allowed, json_t *instance, const char *path, struct validation *validation)
{
  char expected[256] = "";
  size_t used = 0;
  size_t i;
  json_t *value;

  if (!json_is_array (allowed))
    return true;
  json_array_foreach (allowed, i, value)
    if (json_equal (value, instance))
      return true;

  json_array_foreach (allowed, i, value)
    {
      cleanup_free char *text = mcp_json_to_text (value);

      if (used < sizeof expected)
        used += (size_t) snprintf (expected + used, sizeof expected - used, "%s%s",
                                   used > 0 ? ", " : "", text);
    }
  return fail (validation, path, "expected one of %s", expected);
}

/* Compare two JSON numbers: negative, zero or positive like strcmp. Two
 * integers compare exactly, and anything else compares as doubles. */
static int
compare_numbers (json_t *a, json_t *b)
{
  if (json_is_integer (a) && json_is_integer (b))
    {
      json_int_t x = json_integer_value (a);
      json_int_t y = json_integer_value (b);

      return (x > y) - (x < y);
    }
  return (json_number_value (a) > json_number_value (b))
         - (json_number_value (a) < json_number_value (b));
}

static void
format_number (json_t *number, char *buf, size_t size)
{
  if (json_is_integer (number))
    snprintf (buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value (number));
  else
    snprintf (buf, size, "%g", json_number_value (number));
}

static bool
check_range (json_t *schema, json_t *instance, const char *path, struct validation *validation)
{
  json_t *minimum = json_object_get (schema, "minimum");
  json_t *maximum = json_object_get (schema, "maximum");
  char bound[64];

  if (!json_is_number (instance))
    return true;
  if (json_is_number (minimum) && compare_numbers (instance, minimum) < 0)
    {
      format_number (minimum, bound, sizeof bound);
      return fail (validation, path, "must be at least %s", bound);
    }
  if (json_is_number (maximum) && compare_numbers (instance, maximum) > 0)
    {
      format_number (maximum, bound, sizeof bound);
      return fail (validation, path, "must be at most %s", bound);
    }
  return true;
}

/* Suffix for a count in a message: "1 item", "2 items". */
static const char *
plural (json_t *count)
{
  return json_integer_value (count) == 1 ? "" : "s";
}

/* JSON Schema counts string length in Unicode code points. jansson strings
 * are valid UTF-8, so every byte that does not continue a sequence starts
 * one. */
static size_t
count_code_points (json_t *string)
{
  const unsigned char *p = (const unsigned char *) json_string_value (string);
  size_t length = json_string_length (string);
  size_t count = 0;
  size_t i;

  for (i = 0; i < length; i++)
    if ((p[i] & 0xc0) != 0x80)
      count++;
  return count;
}

static bool
check_string (json_t *schema, json_t *instance, const char *path, struct validation *validation)
{
  json_t *min_length = json_object_get (schema, "minLength");
  json_t *max_length = json_object_get (schema, "maxLength");
  json_int_t length;

  if (!json_is_string (instance))
    return true;
  length = (json_int_t) count_code_points (instance);
  if (json_is_integer (min_length) && length < json_integer_value (min_length))
    return fail (validation, path, "must be at least %" JSON_INTEGER_FORMAT " character%s long",
                 json_integer_value (min_length), plural (min_length));
  if (json_is_integer (max_length) && length > json_integer_value (max_length))
    return fail (validation, path, "must be at most %" JSON_INTEGER_FORMAT " character%s long",
                 json_integer_value (max_length), plural (max_length));
  return true;
}

static bool validate (json_t *schema, json_t *instance, const char *path,
                      struct validation *validation);

static bool
check_array (json_t *schema, json_t *instance, const char *path, struct validation *validation)
{
  json_t *min_items = json_object_get (schema, "minItems");
  json_t *max_items = json_object_get (schema, "maxItems");
  json_t *items = json_object_get (schema, "items");
  json_int_t count;
  size_t i;
  json_t *item;

  if (!json_is_array (instance))
    return true;
  count = (json_int_t) json_array_size (instance);
  if (json_is_integer (min_items) && count < json_integer_value (min_items))
    return fail (validation, path, "must have at least %" JSON_INTEGER_FORMAT " item%s",
                 json_integer_value (min_items), plural (min_items));
  if (json_is_integer (max_items) && count > json_integer_value (max_items))
    return fail (validation, path, "must have at most %" JSON_INTEGER_FORMAT " item%s",
                 json_integer_value (max_items), plural (max_items));

  if (!json_is_object (items))
    return true;
  json_array_foreach (instance, i, item)
    {
      char item_path[PATH_BYTES];

      snprintf (item_path, sizeof item_path, "%s[%zu]", path, i);
      if (!validate (items, item, item_path, validation))
        return false;
    }
  return true;
}

static void
join_path (char *buf, size_t size, const char *parent, const char *key)
{
  if (parent[0] == '\0')
    snprintf (buf, size, "%s", key);
  else
    snprintf (buf, size, "%s.%s", parent, key);
}

static bool
check_object (json_t *schema, json_t *instance, const char *path, struct validation *validation)
{
  json_t *properties = json_object_get (schema, "properties");
  json_t *additional = json_object_get (schema, "additionalProperties");
  json_t *required = json_object_get (schema, "required");
  const char *key;
  json_t *value;
  size_t i;
  json_t *name;

  if (!json_is_object (instance))
    return true;

  /* Unknown keys first: a misspelt name then reads as unknown rather than
   * as a missing required argument. */
  json_object_foreach (instance, key, value)
    {
      json_t *property = json_object_get (properties, key);
      char child_path[PATH_BYTES];

      join_path (child_path, sizeof child_path, path, key);
      if (property != NULL)
        {
          if (!validate (property, value, child_path, validation))
            return false;
        }
      else if (json_is_false (additional))
        {
          snprintf (validation->message, validation->size, "Unknown argument '%s'", child_path);
          return false;
        }
      else if (json_is_object (additional))
        {
          if (!validate (additional, value, child_path, validation))
            return false;
        }
    }

  json_array_foreach (required, i, name)
    {
      char child_path[PATH_BYTES];

      if (!json_is_string (name) || json_object_get (instance, json_string_value (name)) != NULL)
        continue;
      join_path (child_path, sizeof child_path, path, json_string_value (name));
      snprintf (validation->message, validation->size, "Missing required argument '%s'",
                child_path);
      return false;
    }
  return true;
}

static bool
validate (json_t *schema, json_t *instance, const char *path, struct validation *validation)
{
  if (!json_is_object (schema))
    return true;
  return check_type (json_object_get (schema, "type"), instance, path, validation)
         && check_enum (json_object_get (schema, "enum"), instance, path, validation)
         && check_range (schema, instance, path, validation)
         && check_string (schema, instance, path, validation)
         && check_array (schema, instance, path, validation)
         && check_object (schema, instance, path, validation);
}

bool
mcp_schema_validate (json_t *schema, json_t *instance, char *message, size_t size)
{
  struct validation validation = { .message = message, .size = size };

  if (size > 0)
    message[0] = '\0';
  return validate (schema, instance, "", &validation);
}
