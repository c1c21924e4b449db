from hub import policy


def hub(request):
    user = getattr(request, "user", None)
    return {
        "needs_mfa": policy.needs_mfa_enrolment(user) if user is not None else False,
        "is_hub_member": policy.is_member(user) if user is not None else False,
        "can_decide_applications": bool(user is not None and (
            policy.acts_as_staff(user) or policy.admin_org_ids(user))),
        "can_use_admin": policy.can_use_admin(user) if user is not None else False,
    }
