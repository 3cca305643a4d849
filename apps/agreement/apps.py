from django.apps import AppConfig


class AgreementConfig(AppConfig):
    name = "apps.agreement"
    label = "agreement"
    verbose_name = "Double coding and agreement"

    def ready(self) -> None:
        # Blindness: the access policy asks this app which passages a coder, or a supervisor,
        # may not see while an assignment is open (a hook the lower app offers, filled here).
        from apps.accounts import policy
        from apps.agreement import blindness

        policy.register_blindness(blindness.CODERS)
        policy.register_blindness(blindness.SUPERVISORS)
        # The reading view lists a source's double-coding units once compared.
        from apps.agreement.views import reader_units
        from apps.annotations import reader

        reader.register_reader_section(reader_units)
        # Removing a member who still codes an open assignment asks what becomes of their place.
        from apps.accounts import leaving
        from apps.agreement.coding import hand_over, open_coding

        leaving.register_handover(leaving.Handover(open_work=open_coding, settle=hand_over))
