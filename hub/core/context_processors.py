from hub import policy


def hub(request):
    user = getattr(request, "user", None)
    return {
        "needs_mfa": policy.needs_mfa_enrolment(user) if user is not None else False,
        "is_hub_member": policy.is_member(user) if user is not None else False,
        "can_decide_applications": (policy.can_decide_any_application(user)
                                    if user is not None else False),
        "can_use_admin": policy.can_use_admin(user) if user is not None else False,
    }
