from django.core.exceptions import ValidationError


def errors_to_form(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: beside the field it names, or above the
    form when it names none, so the page keeps what was typed and says what to change."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)
